import AiosCore
import Logging
import ServiceLifecycle

/// Rolls back guarded changes nobody confirmed before their deadline.
struct GuardWatcher: Service {
    let orchestrator: Orchestrator
    let clock: any Clock
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels the loop; that is the normal way to stop, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var wait: Int64 = 1000
                do {
                    if let next = try await orchestrator.rollBackExpiredGuards(probeGraceMs: 5000) {
                        wait = min(wait, max(20, next - clock.nowMs()))
                    }
                } catch {
                    logger.error("guard watcher: cannot read open guards: \(error)")
                }
                try await clock.sleep(milliseconds: wait)
            }
        }
    }
}
