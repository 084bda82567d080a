internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// A route to add, replace or remove.
public struct RouteSpec: Sendable, Hashable {
    /// Destination prefix; nil is the default route of `family`.
    public var destination: CIDR?
    /// AF_INET or AF_INET6 (taken from `destination` or `gateway` when set).
    public var family: Int32
    /// Next hop, if any (none: an on-link route, scope link).
    public var gateway: String?
    /// Output interface index, if any.
    public var outputIndex: Int32?
    /// Metric (RTA_PRIORITY).
    public var metric: UInt32?
    /// Routing table (254 main).
    public var table: UInt32
    /// RTPROT_* the route is marked with (4 static by default).
    public var protocolID: UInt8

    /// Creates a route.
    public init(
        destination: CIDR?, family: Int32? = nil, gateway: String? = nil, outputIndex: Int32? = nil,
        metric: UInt32? = nil, table: UInt32 = 254, protocolID: UInt8 = 4
    ) {
        self.destination = destination
        let gatewayV6 = gateway.map { ($0 as String).contains(":") }
        self.family = family ?? (destination.map { $0.isIPv6 } ?? gatewayV6 ?? false ? AF_INET6 : AF_INET)
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.metric = metric
        self.table = table
        self.protocolID = protocolID
    }
}

extension RouteNetlink {
    /// Creates a bridge named `name` (down).
    /// - Throws: `NetlinkError` (`EEXIST` when a link of that name exists).
    public func createBridge(_ name: String) throws(NetlinkError) {
        try createLink(name, kind: "bridge")
    }

    /// Creates a link of `kind` (`bridge`, `wireguard`, …) with no kind-specific data.
    /// - Throws: `NetlinkError` (`EOPNOTSUPP` when the kernel lacks the kind, `EEXIST`).
    public func createLink(_ name: String, kind: String) throws(NetlinkError) {
        let operation = "create \(kind) \(name)"
        let socket = try open(operation)
        let request = socket.header(type: UInt16(RTM_NEWLINK), flags: UInt16(NLM_F_CREATE | NLM_F_EXCL))
        aios_put_ifinfomsg(request).pointee.ifi_family = UInt8(AF_UNSPEC)
        mnl_attr_put_strz(request, UInt16(IFLA_IFNAME), name)
        let info = mnl_attr_nest_start(request, UInt16(IFLA_LINKINFO))
        mnl_attr_put_strz(request, UInt16(IFLA_INFO_KIND), kind)
        mnl_attr_nest_end(request, info)
        try socket.acknowledge(request, operation: operation)
    }

    /// Creates a veth pair `name` ↔ `peer`; the peer is created directly inside `peerNamespace`
    /// when given (so it never appears in this namespace).
    /// - Throws: `NetlinkError` (`EEXIST`, `ENOENT` for a missing namespace).
    public func createVeth(_ name: String, peer: String, peerNamespace: NetworkNamespace? = nil) throws(NetlinkError) {
        let operation = "create veth \(name) peer \(peer)"
        var namespaceFD: Int32 = -1
        if let peerNamespace {
            do {
                namespaceFD = try peerNamespace.open()
            } catch {
                throw NetlinkError(operation: "\(operation): \(error.operation)", errno: error.errno)
            }
        }
        defer { if namespaceFD >= 0 { close(namespaceFD) } }
        let socket = try open(operation)
        let request = socket.header(type: UInt16(RTM_NEWLINK), flags: UInt16(NLM_F_CREATE | NLM_F_EXCL))
        aios_put_ifinfomsg(request).pointee.ifi_family = UInt8(AF_UNSPEC)
        mnl_attr_put_strz(request, UInt16(IFLA_IFNAME), name)
        let info = mnl_attr_nest_start(request, UInt16(IFLA_LINKINFO))
        mnl_attr_put_strz(request, UInt16(IFLA_INFO_KIND), "veth")
        let data = mnl_attr_nest_start(request, UInt16(IFLA_INFO_DATA))
        let peerNest = mnl_attr_nest_start(request, UInt16(VETH_INFO_PEER))
        // The peer's attributes follow its own ifinfomsg inside the nest.
        aios_put_ifinfomsg(request).pointee.ifi_family = UInt8(AF_UNSPEC)
        mnl_attr_put_strz(request, UInt16(IFLA_IFNAME), peer)
        if namespaceFD >= 0 { mnl_attr_put_u32(request, UInt16(IFLA_NET_NS_FD), UInt32(namespaceFD)) }
        mnl_attr_nest_end(request, peerNest)
        mnl_attr_nest_end(request, data)
        mnl_attr_nest_end(request, info)
        try socket.acknowledge(request, operation: operation)
    }

    /// Changes a link: administrative state, MTU, master (0 releases it), namespace.
    /// Fields left nil are not touched.
    /// - Throws: `NetlinkError` (`ENODEV` for an unknown index, `EINVAL` for an MTU out of range).
    public func setLink(
        index: Int32, up: Bool? = nil, mtu: UInt32? = nil, master: Int32? = nil,
        namespace target: NetworkNamespace? = nil
    ) throws(NetlinkError) {
        let operation = "set link \(index)"
        var namespaceFD: Int32 = -1
        if let target {
            do {
                namespaceFD = try target.open()
            } catch {
                throw NetlinkError(operation: "\(operation): \(error.operation)", errno: error.errno)
            }
        }
        defer { if namespaceFD >= 0 { close(namespaceFD) } }
        let socket = try open(operation)
        let request = socket.header(type: UInt16(RTM_NEWLINK), flags: 0)
        let info = aios_put_ifinfomsg(request)!
        info.pointee.ifi_family = UInt8(AF_UNSPEC)
        info.pointee.ifi_index = index
        if let up {
            info.pointee.ifi_change = UInt32(IFF_UP.rawValue)
            info.pointee.ifi_flags = up ? UInt32(IFF_UP.rawValue) : 0
        }
        if let mtu { mnl_attr_put_u32(request, UInt16(IFLA_MTU), mtu) }
        if let master { mnl_attr_put_u32(request, UInt16(IFLA_MASTER), UInt32(bitPattern: master)) }
        if namespaceFD >= 0 { mnl_attr_put_u32(request, UInt16(IFLA_NET_NS_FD), UInt32(namespaceFD)) }
        try socket.acknowledge(request, operation: operation)
    }

    /// Deletes a link (deleting one end of a veth deletes its peer too).
    /// - Throws: `NetlinkError` (`ENODEV` when it does not exist).
    public func deleteLink(index: Int32) throws(NetlinkError) {
        let operation = "delete link \(index)"
        let socket = try open(operation)
        let request = socket.header(type: UInt16(RTM_DELLINK), flags: 0)
        let info = aios_put_ifinfomsg(request)!
        info.pointee.ifi_family = UInt8(AF_UNSPEC)
        info.pointee.ifi_index = index
        try socket.acknowledge(request, operation: operation)
    }

    /// The index of the link named `name`, or nil.
    public func linkIndex(named name: String) throws(NetlinkError) -> Int32? {
        try links().first { $0.name == name }?.index
    }

    /// Adds `address` (with its prefix) to link `index`.
    /// - Throws: `NetlinkError` (`EEXIST` when present, `ENODEV`).
    public func addAddress(_ address: CIDR, index: Int32) throws(NetlinkError) {
        try changeAddress(address, index: index, add: true)
    }

    /// Removes `address` from link `index`.
    /// - Throws: `NetlinkError` (`EADDRNOTAVAIL` when it is not there).
    public func removeAddress(_ address: CIDR, index: Int32) throws(NetlinkError) {
        try changeAddress(address, index: index, add: false)
    }

    private func changeAddress(_ address: CIDR, index: Int32, add: Bool) throws(NetlinkError) {
        let operation = "\(add ? "add" : "remove") address \(address) on link \(index)"
        guard let bytes = IPAddressText.parse(address.address) else {
            throw NetlinkError(operation: operation, errno: EINVAL)
        }
        let socket = try open(operation)
        let request = socket.header(
            type: UInt16(add ? RTM_NEWADDR : RTM_DELADDR), flags: add ? UInt16(NLM_F_CREATE | NLM_F_EXCL) : 0)
        let info = aios_put_ifaddrmsg(request)!
        info.pointee.ifa_family = UInt8(address.isIPv6 ? AF_INET6 : AF_INET)
        info.pointee.ifa_prefixlen = UInt8(address.length)
        info.pointee.ifa_index = UInt32(bitPattern: index)
        put(request, UInt16(IFA_LOCAL), bytes)
        put(request, UInt16(IFA_ADDRESS), bytes)
        if add, !address.isIPv6, address.length < 31 {
            put(request, UInt16(IFA_BROADCAST), Self.broadcast(bytes, length: address.length))
        }
        try socket.acknowledge(request, operation: operation)
    }

    /// Adds a route, replacing one with the same destination, table and metric (`ip route replace`).
    /// - Throws: `NetlinkError` (`ENETUNREACH` when the gateway is not on a connected subnet, `ENODEV`).
    public func replaceRoute(_ route: RouteSpec) throws(NetlinkError) {
        try changeRoute(route, type: UInt16(RTM_NEWROUTE), flags: UInt16(NLM_F_CREATE | NLM_F_REPLACE), verb: "replace")
    }

    /// Removes a route (matching destination, table, and metric/gateway/interface when given).
    /// - Throws: `NetlinkError` (`ESRCH` when there is no such route).
    public func removeRoute(_ route: RouteSpec) throws(NetlinkError) {
        try changeRoute(route, type: UInt16(RTM_DELROUTE), flags: 0, verb: "remove")
    }

    private func changeRoute(_ route: RouteSpec, type: UInt16, flags: UInt16, verb: String) throws(NetlinkError) {
        let operation = "\(verb) route \(route.destination?.description ?? "default")"
        let socket = try open(operation)
        let request = socket.header(type: type, flags: flags)
        let message = aios_put_rtmsg(request)!
        message.pointee.rtm_family = UInt8(route.family)
        message.pointee.rtm_dst_len = UInt8(route.destination?.length ?? 0)
        message.pointee.rtm_table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        message.pointee.rtm_protocol = route.protocolID
        message.pointee.rtm_type = UInt8(RTN_UNICAST)
        message.pointee.rtm_scope =
            route.gateway == nil && type == UInt16(RTM_NEWROUTE)
            ? UInt8(RT_SCOPE_LINK.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue)
        if type == UInt16(RTM_DELROUTE) { message.pointee.rtm_scope = UInt8(RT_SCOPE_NOWHERE.rawValue) }
        if let destination = route.destination, let bytes = IPAddressText.parse(destination.address) {
            put(request, UInt16(RTA_DST.rawValue), bytes)
        }
        if let gateway = route.gateway {
            guard let bytes = IPAddressText.parse(gateway) else {
                throw NetlinkError(operation: "\(operation): gateway \(gateway)", errno: EINVAL)
            }
            put(request, UInt16(RTA_GATEWAY.rawValue), bytes)
        }
        if let index = route.outputIndex {
            mnl_attr_put_u32(request, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: index))
        }
        if let metric = route.metric { mnl_attr_put_u32(request, UInt16(RTA_PRIORITY.rawValue), metric) }
        mnl_attr_put_u32(request, UInt16(RTA_TABLE.rawValue), route.table)
        try socket.acknowledge(request, operation: operation)
    }

    private func put(_ request: UnsafeMutablePointer<nlmsghdr>, _ type: UInt16, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in mnl_attr_put(request, type, raw.count, raw.baseAddress) }
    }

    static func broadcast(_ bytes: [UInt8], length: Int) -> [UInt8] {
        let value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let host: UInt32 = length == 0 ? .max : (UInt32.max >> UInt32(length))
        let result = value | host
        return [UInt8(result >> 24), UInt8(result >> 16 & 0xff), UInt8(result >> 8 & 0xff), UInt8(result & 0xff)]
    }
}
