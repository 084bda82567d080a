internal import CNetlink
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Something was removed from an nf_tables table, as the kernel announced it: by aios-net, by a
/// person with `nft`, or by another program.
public struct NftablesRemoval: Sendable, Hashable {
    /// What went: `table`, `chain`, `rule`, `set` or `element`.
    public var object: String
    /// The table it was in.
    public var table: String
}

/// Subscribes to the nf_tables multicast group of one namespace and delivers its removals (of
/// tables, chains, rules, sets and set elements) as an `AsyncStream`; additions are not reported.
/// A thread of its own reads the socket; ending the stream stops the thread.
public struct NftablesEventSource: Sendable {
    /// The namespace watched; nil for the caller's.
    public let namespace: NetworkNamespace?

    /// A source for `namespace`.
    public init(namespace: NetworkNamespace? = nil) { self.namespace = namespace }

    /// NFNLGRP_NFTABLES as a bind(2) group bit.
    static let groups: UInt32 = 1 << (UInt32(NFNLGRP_NFTABLES.rawValue) - 1)

    /// The removal messages, by what they remove (`NFT_MSG_DEL*` and `NFT_MSG_DESTROY*`).
    static let removals: [UInt16: String] = [
        UInt16(NFT_MSG_DELTABLE.rawValue): "table", UInt16(NFT_MSG_DELCHAIN.rawValue): "chain",
        UInt16(NFT_MSG_DELRULE.rawValue): "rule", UInt16(NFT_MSG_DELSET.rawValue): "set",
        UInt16(NFT_MSG_DELSETELEM.rawValue): "element", 26: "table", 27: "chain", 28: "rule", 29: "set",
        30: "element",
    ]

    /// Starts watching.
    /// - Throws: `NetlinkError` when the socket cannot be opened.
    public func removals() throws(NetlinkError) -> AsyncStream<NftablesRemoval> {
        let socket = try NetlinkSocket(
            namespace: namespace, protocol: NETLINK_NETFILTER, groups: Self.groups, operation: "subscribe to nf_tables")
        return try NetlinkSubscription.stream(socket) { message, continuation in
            let type = message.pointee.nlmsg_type
            guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES), let object = Self.removals[type & 0xff] else { return }
            // The table's name is attribute 1 of every one of these (NFTA_TABLE_NAME,
            // NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE).
            var table = ""
            NetlinkAttributes.each(message, offset: MemoryLayout<nfgenmsg>.size) { kind, attribute in
                if kind == 1 { table = NetlinkAttributes.string(attribute) }
            }
            continuation.yield(NftablesRemoval(object: object, table: table))
        } overflow: {
            // Events were lost: say that anything may have gone.
            $0.yield(NftablesRemoval(object: "table", table: ""))
        }
    }
}
