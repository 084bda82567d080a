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
        let doubled = initial * Double(1 << min(failures, 30))
        failures += 1
        let delay = min(doubled, cap)
        guard jitter > 0 else { return delay }
        return delay * (1 - jitter * Double.random(in: 0..<1))
    }

    /// A success: the next failure waits `initial` again.
    public mutating func reset() { failures = 0 }
}
