import Synchronization

/// A gate that is closed until opened once: `wait()` returns at once when it is open, else when
/// it opens. The daemon serves its socket at once after a start and holds the calls that touch
/// the firewall behind one of these until the start's firewall check has run.
public final class AsyncGate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// A gate, closed unless `open` is true.
    public init(open: Bool = false) { state.withLock { $0.open = open } }

    /// True once opened.
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Returns once the gate is open.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    /// Opens the gate for good, releasing every waiter.
    public func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
