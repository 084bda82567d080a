import Synchronization

/// A log line that may be written at most once per interval: the first occurrence is logged,
/// later ones within the interval are counted and reported with the next line let through.
final class RateLimitedLine: Sendable {
    private let what: String
    private let every: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    init(what: String, every: Duration) {
        self.what = what
        self.every = every
    }

    /// The line to log for one more occurrence now, or nil when it is to be counted only.
    func note(now: ContinuousClock.Instant = .now) -> String? {
        state.withLock { state in
            if let last = state.last, now - last < every {
                state.suppressed += 1
                return nil
            }
            let line = state.suppressed > 0 ? "\(what) (and \(state.suppressed) more since the last report)" : what
            state = (now, 0)
            return line
        }
    }
}
