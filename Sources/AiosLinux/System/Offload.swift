import Foundation

/// Runs blocking work (a connect with a timeout, a poll) on a thread of its own and awaits it, so
/// the cooperative pool (two threads on this machine) is never parked.
public enum Offload {
    /// Runs `body` on a new thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }
}
