import Foundation
import Synchronization

/// How many control connections are open, in all and per user: a cap on both, so no peer (an
/// allowed one that trickles, or many at once) can hold every thread the server would start.
final class ConnectionLimits: Sendable {
    /// Connections open at once, in all.
    static let total = 64
    /// Connections open at once, per uid.
    static let perUser = 16

    private let open = Mutex<(total: Int, byUser: [UInt32: Int])>((0, [:]))

    /// Counts a connection of `uid` in, unless a cap is reached (then nothing is counted).
    func enter(uid: UInt32) -> Bool {
        open.withLock { state in
            let mine = state.byUser[uid, default: 0]
            guard state.total < Self.total, mine < Self.perUser else { return false }
            state.total += 1
            state.byUser[uid] = mine + 1
            return true
        }
    }

    /// Counts a connection of `uid` out.
    func leave(uid: UInt32) {
        open.withLock { state in
            state.total -= 1
            let mine = state.byUser[uid, default: 1] - 1
            state.byUser[uid] = mine > 0 ? mine : nil
        }
    }
}

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
