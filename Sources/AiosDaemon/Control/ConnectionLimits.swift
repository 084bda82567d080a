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
