public import AiosCore
import Synchronization

/// A clock tests control: `sleep` advances time at once, so windows and deadlines pass instantly
/// and deterministically.
public final class TestClock: Clock {
    private let now = Mutex<Int64>(1_800_000_000_000)

    /// Starts at a fixed instant.
    public init() {}

    public func nowMs() -> Int64 { now.withLock { $0 } }

    public func sleep(milliseconds: Int64) async throws {
        try Task.checkCancellation()
        advance(by: milliseconds)
        await Task.yield()
    }

    /// Moves time forward.
    public func advance(by milliseconds: Int64) {
        now.withLock { $0 += max(0, milliseconds) }
    }
}
