internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// One rule of an nftables table as the kernel reports it: enough to see which rules are there
/// and read their counters, without the set contents.
public struct NftablesRule: Sendable, Hashable {
    /// The chain it is in.
    public var chain: String
    /// Its handle.
    public var handle: UInt64
    /// Its comment (nft's `comment "…"`), if any.
    public var comment: String?
    /// Packets counted by its `counter` expressions, in order.
    public var counterPackets: [UInt64]
}

/// One chain of an nftables table.
public struct NftablesChain: Sendable, Hashable {
    /// Its name.
    public var name: String
    /// `accept` or `drop` for a base chain; nil for a regular one.
    public var policy: String?
}

/// One element of a set as the kernel holds it.
public struct NftablesSetElement: Sendable, Hashable {
    /// The key's bytes; a concatenation is laid out in 32-bit words, each field padded to a
    /// whole word (an address is 4 or 16 bytes, a protocol 1 and a port 2 big-endian, an
    /// interface name 16).
    public var key: [UInt8]
    /// The closing key of a concatenated range (interval sets), laid out like `key`.
    public var keyEnd: [UInt8]?
    /// Milliseconds until it expires, when it has a timeout.
    public var expiresMs: UInt64?
    /// Its timeout in milliseconds (the lifetime it was given), when it has one.
    public var timeoutMs: UInt64?

    /// An element with these bytes.
    public init(key: [UInt8], keyEnd: [UInt8]? = nil, expiresMs: UInt64? = nil, timeoutMs: UInt64? = nil) {
        self.key = key
        self.keyEnd = keyEnd
        self.expiresMs = expiresMs
        self.timeoutMs = timeoutMs
    }

    /// The set named in an element message (a dump's answer, or a request to add or delete
    /// elements: the two share their layout) and the elements it holds.
    static func list(in message: UnsafePointer<nlmsghdr>) -> (set: String, elements: [NftablesSetElement]) {
        var set = ""
        var out: [NftablesSetElement] = []
        NetlinkAttributes.each(message, offset: MemoryLayout<nfgenmsg>.size) { type, attribute in
            switch UInt32(type) {
            case NFTA_SET_ELEM_LIST_SET.rawValue: set = NetlinkAttributes.string(attribute)
            case NFTA_SET_ELEM_LIST_ELEMENTS.rawValue:
                NetlinkAttributes.nested(attribute) { _, item in
                    var element = NftablesSetElement(key: [])
                    NetlinkAttributes.nested(item) { field, value in
                        switch UInt32(field) {
                        case NFTA_SET_ELEM_KEY.rawValue: element.key = data(value)
                        case NFTA_SET_ELEM_KEY_END.rawValue: element.keyEnd = data(value)
                        case NFTA_SET_ELEM_EXPIRATION.rawValue:
                            element.expiresMs = NetlinkAttributes.bigEndian64(value)
                        case NFTA_SET_ELEM_TIMEOUT.rawValue: element.timeoutMs = NetlinkAttributes.bigEndian64(value)
                        default: break
                        }
                    }
                    if !element.key.isEmpty { out.append(element) }
                }
            default: break
            }
        }
        return (set, out)
    }

    /// The value bytes in an `nft_data` attribute.
    private static func data(_ attribute: UnsafePointer<nlattr>) -> [UInt8] {
        var bytes: [UInt8] = []
        NetlinkAttributes.nested(attribute) { type, value in
            if UInt32(type) == NFTA_DATA_VALUE.rawValue { bytes = NetlinkAttributes.bytes(value) }
        }
        return bytes
    }
}

/// Reads a table's rules with one `NFT_MSG_GETRULE` dump over nfnetlink. libnftables' own rule
/// listing first fetches every set's elements into its cache (slow with big sets); the
/// kernel's rule dump costs what the rules cost, whatever the sets hold.
public struct NftablesRules: Sendable {
    /// The namespace to read in; nil for the caller's.
    public let namespace: NetworkNamespace?

    /// A reader for `namespace`.
    public init(namespace: NetworkNamespace? = nil) { self.namespace = namespace }

    /// The family numbers nfnetlink uses (`NFPROTO_*`).
    public enum Family: UInt8, Sendable {
        case inet = 1
        case ip = 2
        case bridge = 7
        case ip6 = 10
    }

    /// Whether table `table` exists in `family`.
    public func tableExists(family: Family, table: String) throws(NetlinkError) -> Bool {
        let operation = "look for table \(table)"
        let (socket, request) = try self.request(NFT_MSG_GETTABLE, family: family, dump: false, operation: operation)
        mnl_attr_put_strz(request, UInt16(NFTA_TABLE_NAME.rawValue), table)
        do {
            let found: [Bool] = try socket.dump(request, operation: operation) { _ in true }
            return !found.isEmpty
        } catch {
            if error.errno == ENOENT { return false }
            throw error
        }
    }

    /// The chains of table `table` in `family` (none when the table does not exist).
    public func chains(family: Family, table: String) throws(NetlinkError) -> [NftablesChain] {
        let operation = "read the chains of table \(table)"
        let (socket, request) = try self.request(NFT_MSG_GETCHAIN, family: family, dump: true, operation: operation)
        mnl_attr_put_strz(request, UInt16(NFTA_CHAIN_TABLE.rawValue), table)
        return try socket.dump(request, operation: operation) { message in
            var chain = NftablesChain(name: "", policy: nil)
            var owner = ""
            NetlinkAttributes.each(message, offset: MemoryLayout<nfgenmsg>.size) { type, attribute in
                switch UInt32(type) {
                case NFTA_CHAIN_TABLE.rawValue: owner = NetlinkAttributes.string(attribute)
                case NFTA_CHAIN_NAME.rawValue: chain.name = NetlinkAttributes.string(attribute)
                case NFTA_CHAIN_POLICY.rawValue:
                    chain.policy = UInt32(bigEndian: mnl_attr_get_u32(attribute)) == 0 ? "drop" : "accept"
                default: break
                }
            }
            // Older kernels dump every table's chains: keep this table's.
            return chain.name.isEmpty || owner != table ? nil : chain
        }
    }

    /// The rules of table `table` in `family` (none when the table does not exist).
    public func rules(family: Family, table: String) throws(NetlinkError) -> [NftablesRule] {
        let operation = "read the rules of table \(table)"
        let (socket, request) = try self.request(NFT_MSG_GETRULE, family: family, dump: true, operation: operation)
        mnl_attr_put_strz(request, UInt16(NFTA_RULE_TABLE.rawValue), table)
        return try socket.dump(request, operation: operation) { message in
            Self.rule(message, table: table)
        }
    }

    /// The elements of set `set` in table `table` (none when either does not exist), with one
    /// `NFT_MSG_GETSETELEM` dump: libnftables' listing of a big set spends most of its time turning
    /// the elements into text and JSON.
    public func setElements(family: Family, table: String, set: String) throws(NetlinkError) -> [NftablesSetElement] {
        let operation = "read the elements of set \(set)"
        let (socket, request) = try self.request(NFT_MSG_GETSETELEM, family: family, dump: true, operation: operation)
        mnl_attr_put_strz(request, UInt16(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
        mnl_attr_put_strz(request, UInt16(NFTA_SET_ELEM_LIST_SET.rawValue), set)
        do {
            return try socket.dump(request, operation: operation) { NftablesSetElement.list(in: $0).elements }
                .flatMap { $0 }
        } catch {
            if error.errno == ENOENT { return [] }
            throw error
        }
    }

    /// A socket and an nftables request header for `message`.
    private func request(_ message: nf_tables_msg_types, family: Family, dump: Bool, operation: String)
        throws(NetlinkError) -> (NetlinkSocket, UnsafeMutablePointer<nlmsghdr>)
    {
        let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER, operation: operation)
        let type = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message.rawValue)
        let request = socket.header(type: type, flags: dump ? UInt16(aios_nlm_f_dump()) : UInt16(NLM_F_ACK))
        let header = mnl_nlmsg_put_extra_header(request, MemoryLayout<nfgenmsg>.size)!.assumingMemoryBound(
            to: nfgenmsg.self)
        header.pointee.nfgen_family = family.rawValue
        header.pointee.version = UInt8(NFNETLINK_V0)
        header.pointee.res_id = 0
        return (socket, request)
    }

    private static func rule(_ message: UnsafePointer<nlmsghdr>, table: String) -> NftablesRule? {
        var rule = NftablesRule(chain: "", handle: 0, comment: nil, counterPackets: [])
        var owner = ""
        NetlinkAttributes.each(message, offset: MemoryLayout<nfgenmsg>.size) { type, attribute in
            switch UInt32(type) {
            case NFTA_RULE_TABLE.rawValue: owner = NetlinkAttributes.string(attribute)
            case NFTA_RULE_CHAIN.rawValue: rule.chain = NetlinkAttributes.string(attribute)
            case NFTA_RULE_HANDLE.rawValue: rule.handle = NetlinkAttributes.bigEndian64(attribute)
            case NFTA_RULE_USERDATA.rawValue: rule.comment = comment(NetlinkAttributes.bytes(attribute))
            case NFTA_RULE_EXPRESSIONS.rawValue:
                NetlinkAttributes.nested(attribute) { _, element in
                    var name = ""
                    var packets: UInt64?
                    NetlinkAttributes.nested(element) { kind, value in
                        if UInt32(kind) == NFTA_EXPR_NAME.rawValue { name = NetlinkAttributes.string(value) }
                        if UInt32(kind) == NFTA_EXPR_DATA.rawValue {
                            NetlinkAttributes.nested(value) { field, data in
                                if UInt32(field) == NFTA_COUNTER_PACKETS.rawValue {
                                    packets = NetlinkAttributes.bigEndian64(data)
                                }
                            }
                        }
                    }
                    if name == "counter" { rule.counterPackets.append(packets ?? 0) }
                }
            default: break
            }
        }
        return rule.chain.isEmpty || owner != table ? nil : rule
    }

    /// The comment in a rule's user data: libnftnl's TLVs (type, length, value), type 0 the
    /// NUL-terminated comment.
    static func comment(_ data: [UInt8]) -> String? {
        var index = 0
        while index + 2 <= data.count {
            let type = data[index]
            let length = Int(data[index + 1])
            let start = index + 2
            guard start + length <= data.count else { return nil }
            if type == 0 {
                let text = data[start..<(start + length)].prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self)
            }
            index = start + length
        }
        return nil
    }
}
