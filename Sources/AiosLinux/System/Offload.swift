import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs blocking work (a connect with a timeout, a poll) on a thread of its own and awaits it, so
/// the cooperative pool (two threads on this machine) is never parked.
public enum Offload {
    /// Runs `body` on a new thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(niceness: 0, body)
    }

    /// Runs bulk work (parsing, patching tens of megabytes) on a new thread at a lower priority
    /// (`nice` 10 for that thread only), so that it yields the cores to what must answer at once:
    /// the resolver's queries, the control socket.
    public static func bulk<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(niceness: 10, body)
    }

    private static func run<T: Sendable>(niceness: Int32, _ body: @escaping @Sendable () throws -> T) async throws
        -> T
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                // On Linux the nice value is per thread: PRIO_PROCESS with 0 sets this thread's only.
                if niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }
}
