/// Capped exponential backoff with jitter: the delay before the next attempt after each failure,
/// back to the first after a success. Used for helper restarts and goals that keep failing.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public let initial: Duration
    /// The longest delay.
    public let cap: Duration
    /// The fraction of each delay drawn at random (0 for none): restarts of many helpers, or
    /// retries of many goals, do not fall on the same instant.
    public let jitter: Double
    /// Failures since the last success.
    public private(set) var failures = 0

    /// Creates a backoff.
    public init(initial: Duration, cap: Duration, jitter: Double = 0) {
        self.initial = initial
        self.cap = cap
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before the next attempt, and one more failure counted.
    public mutating func next() -> Duration {
        defer { failures += 1 }
        return delay(after: failures + 1)
    }

    /// The delay after `failures` failures in a row (1: `initial`), for callers that keep the
    /// count themselves (a goal's, in its status row).
    public func delay(after failures: Int) -> Duration {
        let delay = min(initial * Double(1 << min(max(failures - 1, 0), 30)), cap)
        guard jitter > 0 else { return delay }
        return delay * (1 - jitter * Double.random(in: 0..<1))
    }

    /// `delay(after:)` in whole milliseconds.
    public func milliseconds(after failures: Int) -> Int64 {
        let parts = delay(after: failures).components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    /// A success: the next failure waits `initial` again.
    public mutating func reset() { failures = 0 }
}
