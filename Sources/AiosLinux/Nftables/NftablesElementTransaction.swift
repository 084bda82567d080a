internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// Element additions and deletions in one table's existing sets, sent as one nfnetlink batch:
/// the kernel applies all of it or none. This is what libnftables sends for `add element` and
/// `delete element` — `NFT_MSG_NEWSETELEM`/`DELSETELEM` with the same attributes — without its
/// parsing and evaluation, which are most of its time for a set-element transaction (figures:
/// `Benchmarks/README.md`, firewall batches, "raw nfnetlink"). Adding an element the set holds is no error (no `NLM_F_EXCL`): with the same
/// timeout its timer runs on; with another, recent kernels (6.18 here) restart it with that one,
/// as they do for nft. Deleting an element the set does not hold fails the whole batch (`ENOENT`).
public struct NftablesElementTransaction: Sendable {
    /// What a part does to its set's elements.
    public enum Change: Sendable { case add, delete }

    /// One set's additions or deletions (a batch planned in chunks keeps one list per chunk).
    struct Part: Sendable {
        var set: String
        var change: Change
        var lists: [NftablesElementList]
        var count: Int { lists.reduce(0) { $0 + $1.count } }
    }

    public let family: NftablesRules.Family
    public let table: String
    private(set) var parts: [Part] = []

    /// An empty transaction on table `table` of `family`.
    public init(family: NftablesRules.Family, table: String) {
        self.family = family
        self.table = table
    }

    /// Adds `list`'s elements to set `set`.
    public mutating func add(_ list: NftablesElementList, to set: String) { append(list, set, .add) }

    /// Deletes `list`'s elements (their keys; timeouts are ignored) from set `set`.
    public mutating func delete(_ list: NftablesElementList, from set: String) { append(list, set, .delete) }

    /// Elements added or deleted in all.
    public var elementCount: Int { parts.reduce(0) { $0 + $1.count } }

    /// True when it changes nothing.
    public var isEmpty: Bool { parts.isEmpty }

    private mutating func append(_ list: NftablesElementList, _ set: String, _ change: Change) {
        guard list.count > 0 else { return }
        if let last = parts.indices.last, parts[last].set == set, parts[last].change == change {
            parts[last].lists.append(list)
        } else {
            parts.append(Part(set: set, change: change, lists: [list]))
        }
    }

    /// Sends the transaction on `socket` (an `NftablesConnection`'s) and reads its answers.
    func exchange(on socket: NetlinkSocket) throws(NetlinkError) {
        let operation = "change the set elements of table \(table)"
        let batch = encoded(firstSequence: socket.nextSequence)
        socket.useSequences(batch.owners.count + 2)
        let answers = try socket.exchangeBatch(
            batch.bytes.bytes, messages: batch.owners.count + 2, operation: operation)
        // The refused message names the set; an error on the batch's begin is the commit's own.
        for (sequence, code) in answers.errors.sorted(by: { $0.key < $1.key }) {
            if let owner = batch.owners[sequence] {
                let part = parts[owner]
                let verb = part.change == .add ? "add \(part.count) elements to" : "delete \(part.count) elements from"
                throw NetlinkError(operation: "\(verb) set \(part.set) of table \(table)", errno: code)
            }
            throw NetlinkError(operation: "commit the set elements of table \(table)", errno: code)
        }
        let unanswered = batch.owners.keys.filter { !answers.acknowledged.contains($0) }
        guard unanswered.isEmpty else {
            throw NetlinkError(
                operation:
                    "\(operation): the kernel acknowledged \(batch.owners.count - unanswered.count) of \(batch.owners.count) messages",
                errno: EPROTO)
        }
    }

    /// What the transaction sends, read back from its encoded messages: per message, the set,
    /// the change and the elements (their keys and timeouts). For reports and tests.
    public func decoded() -> [(set: String, change: Change, elements: [NftablesSetElement])] {
        let bytes = encoded(firstSequence: 1).bytes.bytes
        var out: [(set: String, change: Change, elements: [NftablesSetElement])] = []
        bytes.withUnsafeBytes { raw in
            var remaining = Int32(raw.count)
            var message = UnsafePointer(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                let type = UInt32(message.pointee.nlmsg_type & 0xff)
                if message.pointee.nlmsg_type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES),
                    type == NFT_MSG_NEWSETELEM.rawValue || type == NFT_MSG_DELSETELEM.rawValue
                {
                    let (set, elements) = NftablesSetElement.list(in: message)
                    out.append((set, type == NFT_MSG_NEWSETELEM.rawValue ? .add : .delete, elements))
                }
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
        return out
    }

    /// The most element bytes one message carries (the elements nest's length is 16 bits).
    static let messageLimit = 60_000

    /// The batch, numbered from `firstSequence`: begin, one message per run of elements (each
    /// acknowledged), end. `owners` maps each element message's sequence number to its part.
    func encoded(firstSequence: UInt32) -> (bytes: NetlinkBytes, owners: [UInt32: Int]) {
        var bytes = NetlinkBytes()
        let total = parts.reduce(0) { sum, part in sum + part.lists.reduce(0) { $0 + $1.bytes.count } }
        bytes.reserveCapacity(total + 128 * (total / Self.messageLimit + parts.count + 2))
        var owners: [UInt32: Int] = [:]
        var sequence = firstSequence
        func header(_ type: UInt16, flags: Int32, family: UInt8, resource: UInt16) -> Int {
            let start = bytes.beginMessage(type: type, flags: UInt16(NLM_F_REQUEST | flags), sequence: sequence)
            bytes.append(raw: nfgenmsg(nfgen_family: family, version: UInt8(NFNETLINK_V0), res_id: resource.bigEndian))
            sequence &+= 1
            return start
        }
        let subsystem = UInt16(NFNL_SUBSYS_NFTABLES)
        bytes.endMessage(header(UInt16(NFNL_MSG_BATCH_BEGIN), flags: 0, family: UInt8(AF_UNSPEC), resource: subsystem))
        for (index, part) in parts.enumerated() {
            let type =
                subsystem << 8
                | UInt16(part.change == .add ? NFT_MSG_NEWSETELEM.rawValue : NFT_MSG_DELSETELEM.rawValue)
            let flags = NLM_F_ACK | (part.change == .add ? NLM_F_CREATE : 0)
            for list in part.lists {
                for run in list.runs(limit: Self.messageLimit) {
                    owners[sequence] = index
                    let message = header(type, flags: flags, family: family.rawValue, resource: 0)
                    bytes.appendString(NFTA_SET_ELEM_LIST_TABLE.rawValue, table)
                    bytes.appendString(NFTA_SET_ELEM_LIST_SET.rawValue, part.set)
                    let elements = bytes.beginAttribute(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue, nested: true)
                    bytes.append(contentsOf: list.bytes[run])
                    bytes.endAttribute(elements)
                    bytes.endMessage(message)
                }
            }
        }
        bytes.endMessage(header(UInt16(NFNL_MSG_BATCH_END), flags: 0, family: UInt8(AF_UNSPEC), resource: subsystem))
        return (bytes, owners)
    }
}
