internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// Reads and changes links, addresses and routes of a network namespace over rtnetlink (libmnl):
/// the calling thread's own, or the one given. Each call opens its own socket, so the type is
/// freely shareable.
///
/// Dumps and changes are answered by the kernel immediately (no network wait), so calling these
/// from an async context does not park a cooperative thread for long.
public struct RouteNetlink: Sendable {
    /// The namespace worked on; nil for the caller's own.
    public let namespace: NetworkNamespace?

    /// Creates a reader/writer for the caller's namespace, or for `namespace`.
    public init(namespace: NetworkNamespace? = nil) {
        self.namespace = namespace
    }

    /// Every link (RTM_GETLINK dump).
    public func links() throws(NetlinkError) -> [NetlinkLink] {
        try dump(type: UInt16(RTM_GETLINK), family: UInt8(AF_UNSPEC), operation: "dump links") { nlh in
            Self.parseLink(nlh)
        }
    }

    /// Every address of `family` (AF_UNSPEC for both).
    public func addresses(family: Int32 = 0) throws(NetlinkError) -> [NetlinkAddress] {
        try dump(type: UInt16(RTM_GETADDR), family: UInt8(family), operation: "dump addresses") { nlh in
            Self.parseAddress(nlh)
        }
    }

    /// Every route of `family` in every table (filter on `table`).
    public func routes(family: Int32 = 0) throws(NetlinkError) -> [NetlinkRoute] {
        try dump(type: UInt16(RTM_GETROUTE), family: UInt8(family), operation: "dump routes") { nlh in
            Self.parseRoute(nlh)
        }
    }

    func open(_ operation: String) throws(NetlinkError) -> NetlinkSocket {
        try NetlinkSocket(namespace: namespace, operation: operation)
    }

    private func dump<T>(
        type: UInt16, family: UInt8, operation: String, parse: (UnsafePointer<nlmsghdr>) -> T?
    ) throws(NetlinkError) -> [T] {
        let socket = try open(operation)
        let request = socket.header(type: type, flags: UInt16(aios_nlm_f_dump()))
        // A full family header (not the 1-byte rtgenmsg) so strict checking, if on, accepts it.
        switch Int32(type) {
        case Int32(RTM_GETLINK): aios_put_ifinfomsg(request).pointee.ifi_family = family
        case Int32(RTM_GETADDR): aios_put_ifaddrmsg(request).pointee.ifa_family = family
        default: aios_put_rtmsg(request).pointee.rtm_family = family
        }
        return try socket.dump(request, operation: operation, parse: parse)
    }

    /// Calls `body` with each (type, attribute) after a family header of `headerSize` bytes.
    private static func forEachAttribute(
        _ nlh: UnsafePointer<nlmsghdr>, headerSize: Int, _ body: (UInt16, UnsafePointer<nlattr>) -> Void
    ) {
        let tail = UnsafeRawPointer(mnl_nlmsg_get_payload_tail(nlh)!)
        var attribute = UnsafePointer(
            mnl_nlmsg_get_payload_offset(nlh, headerSize)!.assumingMemoryBound(to: nlattr.self))
        while mnl_attr_ok(attribute, Int32(tail - UnsafeRawPointer(attribute))) {
            body(mnl_attr_get_type(attribute), attribute)
            attribute = UnsafePointer(mnl_attr_next(attribute))
        }
    }

    private static func bytes(_ attribute: UnsafePointer<nlattr>) -> [UInt8] {
        let length = Int(mnl_attr_get_payload_len(attribute))
        let payload = mnl_attr_get_payload(attribute)!.assumingMemoryBound(to: UInt8.self)
        return Array(UnsafeBufferPointer(start: payload, count: length))
    }

    private static func string(_ attribute: UnsafePointer<nlattr>) -> String {
        String(cString: mnl_attr_get_str(attribute))
    }

    static func parseLink(_ nlh: UnsafePointer<nlmsghdr>) -> NetlinkLink? {
        guard Int32(nlh.pointee.nlmsg_type) == RTM_NEWLINK || Int32(nlh.pointee.nlmsg_type) == RTM_DELLINK else {
            return nil
        }
        let info = mnl_nlmsg_get_payload(nlh)!.load(as: ifinfomsg.self)
        var link = NetlinkLink(
            index: info.ifi_index, name: "", kind: nil, hardwareType: info.ifi_type, hardwareAddress: [], mtu: 0,
            flags: info.ifi_flags, operState: 0, carrier: nil, master: nil)
        forEachAttribute(nlh, headerSize: MemoryLayout<ifinfomsg>.size) { type, attribute in
            switch Int32(type) {
            case Int32(IFLA_IFNAME): link.name = string(attribute)
            case Int32(IFLA_MTU): link.mtu = mnl_attr_get_u32(attribute)
            case Int32(IFLA_ADDRESS): link.hardwareAddress = bytes(attribute)
            case Int32(IFLA_OPERSTATE): link.operState = mnl_attr_get_u8(attribute)
            case Int32(IFLA_CARRIER): link.carrier = mnl_attr_get_u8(attribute) != 0
            case Int32(IFLA_MASTER): link.master = Int32(bitPattern: mnl_attr_get_u32(attribute))
            case Int32(IFLA_LINKINFO):
                let payloadEnd = UnsafeRawPointer(attribute) + Int(attribute.pointee.nla_len)
                var nested = UnsafePointer(mnl_attr_get_payload(attribute)!.assumingMemoryBound(to: nlattr.self))
                while mnl_attr_ok(nested, Int32(payloadEnd - UnsafeRawPointer(nested))) {
                    if Int32(mnl_attr_get_type(nested)) == Int32(IFLA_INFO_KIND) { link.kind = string(nested) }
                    nested = UnsafePointer(mnl_attr_next(nested))
                }
            default: break
            }
        }
        return link
    }

    static func parseAddress(_ nlh: UnsafePointer<nlmsghdr>) -> NetlinkAddress? {
        guard Int32(nlh.pointee.nlmsg_type) == RTM_NEWADDR || Int32(nlh.pointee.nlmsg_type) == RTM_DELADDR else {
            return nil
        }
        let info = mnl_nlmsg_get_payload(nlh)!.load(as: ifaddrmsg.self)
        var local: [UInt8]?
        var address: [UInt8]?
        var flags = UInt32(info.ifa_flags)
        var label: String?
        forEachAttribute(nlh, headerSize: MemoryLayout<ifaddrmsg>.size) { type, attribute in
            switch Int32(type) {
            case Int32(IFA_LOCAL): local = bytes(attribute)
            case Int32(IFA_ADDRESS): address = bytes(attribute)
            case Int32(IFA_FLAGS): flags = mnl_attr_get_u32(attribute)
            case Int32(IFA_LABEL): label = string(attribute)
            default: break
            }
        }
        guard let own = local ?? address, let text = IPAddressText.format(own) else { return nil }
        let peer = (local != nil && address != nil && local != address) ? address.flatMap(IPAddressText.format) : nil
        return NetlinkAddress(
            index: Int32(bitPattern: info.ifa_index), family: info.ifa_family, address: text, peer: peer,
            prefixLength: info.ifa_prefixlen, scope: info.ifa_scope, flags: flags, label: label)
    }

    static func parseRoute(_ nlh: UnsafePointer<nlmsghdr>) -> NetlinkRoute? {
        guard Int32(nlh.pointee.nlmsg_type) == RTM_NEWROUTE || Int32(nlh.pointee.nlmsg_type) == RTM_DELROUTE else {
            return nil
        }
        let info = mnl_nlmsg_get_payload(nlh)!.load(as: rtmsg.self)
        var route = NetlinkRoute(
            family: info.rtm_family, destination: nil, destinationLength: info.rtm_dst_len, gateway: nil,
            outputIndex: nil,
            priority: nil, preferredSource: nil, table: UInt32(info.rtm_table), protocolID: info.rtm_protocol,
            scope: info.rtm_scope, type: info.rtm_type, flags: info.rtm_flags)
        forEachAttribute(nlh, headerSize: MemoryLayout<rtmsg>.size) { type, attribute in
            switch Int32(type) {
            case Int32(RTA_DST.rawValue): route.destination = IPAddressText.format(bytes(attribute))
            case Int32(RTA_GATEWAY.rawValue): route.gateway = IPAddressText.format(bytes(attribute))
            case Int32(RTA_OIF.rawValue): route.outputIndex = Int32(bitPattern: mnl_attr_get_u32(attribute))
            case Int32(RTA_PRIORITY.rawValue): route.priority = mnl_attr_get_u32(attribute)
            case Int32(RTA_PREFSRC.rawValue): route.preferredSource = IPAddressText.format(bytes(attribute))
            case Int32(RTA_TABLE.rawValue): route.table = mnl_attr_get_u32(attribute)
            default: break
            }
        }
        return route
    }
}
