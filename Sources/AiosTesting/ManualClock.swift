public import AiosCore
import Synchronization

/// A clock that moves only when the test moves it, and whose `sleep` really waits: until the
/// test advances time past the sleeper's deadline, or the sleeper is cancelled. For long-running
/// loops (the goal reconciler) that a `TestClock` — whose sleep returns at once — would spin.
public final class ManualClock: Clock {
    private struct State {
        var now: Int64 = 1_800_000_000_000
        var sleepers: [Int: (deadline: Int64, continuation: CheckedContinuation<Void, any Error>)] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    /// Starts at a fixed instant.
    public init() {}

    public func nowMs() -> Int64 { state.withLock { $0.now } }

    public func sleep(milliseconds: Int64) async throws {
        try await sleep(untilMs: nowMs() + max(0, milliseconds))
    }

    public func sleep(untilMs deadline: Int64) async throws {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state -> Bool in
                    guard deadline > state.now, !Task.isCancelled else { return true }
                    state.sleepers[id] = (deadline, continuation)
                    return false
                }
                if ready {
                    Task.isCancelled ? continuation.resume(throwing: CancellationError()) : continuation.resume()
                }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking every sleeper whose deadline has come.
    public func advance(by milliseconds: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now += max(0, milliseconds)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }
}
