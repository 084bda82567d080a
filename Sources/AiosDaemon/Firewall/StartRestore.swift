import AiosCore
import ServiceLifecycle

/// The start's restore of recorded state, run once the socket serves: the firewall table and its
/// rules (after a reboot), the entry sets checked against the store (after a crash), the sandbox
/// networks. Calls that touch the firewall wait at `gate` until it has run, so none sees the
/// table half restored; everything else is served meanwhile.
struct StartRestore: Service {
    /// Check the entry sets element by element (the previous run did not stop cleanly).
    let entries: Bool
    let gate: AsyncGate
    /// Runs one step through the pipeline (origin `restore`), logging what it did.
    let steps: @Sendable (String, JSONValue) async -> Void

    func run() async throws {
        await steps("firewall.reconcile", entries ? ["entries": true] : [:])
        await steps("firewall.sandbox_reconcile", [:])
        gate.open()
    }
}
