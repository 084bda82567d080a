internal import CNetlink
import Synchronization

/// A netfilter netlink socket kept open for element transactions, as libnftables keeps one for
/// its context's life. Closing one after a transaction that deleted anything waits for the kernel
/// to free what was deleted (nf_tables flushes its destroy work on the socket's release: an RCU
/// grace period, milliseconds with no CPU used), so a socket per transaction would add
/// that to the next call after any removal. Transactions on one connection take turns; after a
/// failed one the socket is replaced.
public final class NftablesConnection: Sendable {
    /// The namespace its socket is opened in; nil for the caller's.
    public let namespace: NetworkNamespace?
    private let socket = Mutex<NetlinkSocket?>(nil)

    /// A connection in `namespace` (nil: the calling thread's). The socket opens on first use.
    public init(namespace: NetworkNamespace? = nil) { self.namespace = namespace }

    /// Sends `transaction` and waits for the kernel's answers: all of it is applied, or none.
    /// Nothing is sent when it is empty.
    /// - Throws: `NetlinkError` naming the set and change the kernel refused, with its errno
    ///   (`ENOENT`: no such table or set, or no such element to delete; `ENOSPC`/`ENFILE`: the
    ///   set is full; `EEXIST`/`ENOTEMPTY`: an interval overlaps one the set holds).
    public func commit(_ transaction: NftablesElementTransaction) throws(NetlinkError) {
        guard !transaction.isEmpty else { return }
        try socket.withLock { (held: inout NetlinkSocket?) throws(NetlinkError) in
            let open: NetlinkSocket
            if let held {
                open = held
            } else {
                open = try NetlinkSocket(
                    namespace: namespace, protocol: NETLINK_NETFILTER,
                    operation: "open a netfilter socket for table \(transaction.table)")
            }
            held = open
            do throws(NetlinkError) {
                try transaction.exchange(on: open)
            } catch {
                // Whatever is left on it (answers not read, a broken send) goes with it.
                held = nil
                throw error
            }
        }
    }
}
