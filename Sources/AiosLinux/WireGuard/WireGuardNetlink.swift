internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// The kernel WireGuard module's generic netlink family (`wireguard`): what `wg` speaks, spoken
/// directly. `WG_CMD_SET_DEVICE` applies a `WireGuardConfiguration`; `WG_CMD_GET_DEVICE` reads the
/// device back as the UAPI would report it.
///
/// - Important: this kernel (the lab's) has no WireGuard module, so this path is exercised where
///   the module exists; wireguard-go over the UAPI is what the tests drive.
public struct WireGuardNetlink: Sendable {
    /// The namespace of the device; nil for the caller's.
    public let namespace: NetworkNamespace?

    /// A client for devices in `namespace`.
    public init(namespace: NetworkNamespace? = nil) { self.namespace = namespace }

    /// The wireguard family's id, resolved through the generic netlink controller.
    /// - Throws: `NetlinkError` (`ENOENT` when the module is not loaded).
    func familyID(_ socket: NetlinkSocket) throws(NetlinkError) -> UInt16 {
        try Self.familyID(WG_GENL_NAME, socket)
    }

    /// Whether the kernel has the wireguard family (the module is loaded or built in).
    public func kernelSupport() -> Bool {
        guard let socket = try? Self.socket(namespace, operation: "look for the wireguard netlink family") else {
            return false
        }
        return (try? familyID(socket)) != nil
    }

    /// A generic netlink socket in `namespace`.
    static func socket(_ namespace: NetworkNamespace?, operation: String) throws(NetlinkError) -> NetlinkSocket {
        try NetlinkSocket(namespace: namespace, protocol: NETLINK_GENERIC, operation: operation)
    }

    /// A generic netlink family's id by name.
    /// - Throws: `NetlinkError` (`ENOENT` when the kernel has no such family).
    static func familyID(_ name: String, _ socket: NetlinkSocket) throws(NetlinkError) -> UInt16 {
        let request = socket.header(type: UInt16(GENL_ID_CTRL), flags: UInt16(NLM_F_ACK))
        let header = mnl_nlmsg_put_extra_header(request, MemoryLayout<genlmsghdr>.size)!.assumingMemoryBound(
            to: genlmsghdr.self)
        header.pointee.cmd = UInt8(CTRL_CMD_GETFAMILY)
        header.pointee.version = 1
        mnl_attr_put_strz(request, UInt16(CTRL_ATTR_FAMILY_NAME), name)
        var id: UInt16 = 0
        let replies: [UInt16] = try socket.dump(request, operation: "resolve the \(name) netlink family") { message in
            var found: UInt16?
            NetlinkAttributes.each(message, offset: MemoryLayout<genlmsghdr>.size) { type, attribute in
                if type == UInt16(CTRL_ATTR_FAMILY_ID) { found = mnl_attr_get_u16(attribute) }
            }
            return found
        }
        id = replies.first ?? 0
        guard id != 0 else { throw NetlinkError(operation: "resolve the \(name) netlink family", errno: ENOENT) }
        return id
    }

    /// Applies `configuration` to `interface`.
    /// - Throws: `NetlinkError` with the kernel's errno.
    public func set(_ interface: String, _ configuration: WireGuardConfiguration) throws(NetlinkError) {
        let socket = try Self.socket(namespace, operation: "configure WireGuard \(interface)")
        let family = try familyID(socket)
        let request = socket.header(type: family, flags: 0)
        let header = mnl_nlmsg_put_extra_header(request, MemoryLayout<genlmsghdr>.size)!.assumingMemoryBound(
            to: genlmsghdr.self)
        header.pointee.cmd = UInt8(WG_CMD_SET_DEVICE.rawValue)
        header.pointee.version = UInt8(WG_GENL_VERSION)
        mnl_attr_put_strz(request, UInt16(WGDEVICE_A_IFNAME.rawValue), interface)
        if configuration.replacePeers {
            mnl_attr_put_u32(request, UInt16(WGDEVICE_A_FLAGS.rawValue), UInt32(WGDEVICE_F_REPLACE_PEERS.rawValue))
        }
        if let key = configuration.privateKey { put(request, UInt16(WGDEVICE_A_PRIVATE_KEY.rawValue), key) }
        if let port = configuration.listenPort {
            mnl_attr_put_u16(request, UInt16(WGDEVICE_A_LISTEN_PORT.rawValue), UInt16(port))
        }
        if !configuration.peers.isEmpty {
            let peers = mnl_attr_nest_start(request, UInt16(WGDEVICE_A_PEERS.rawValue))
            for (index, peer) in configuration.peers.enumerated() {
                let nest = mnl_attr_nest_start(request, UInt16(index))
                put(request, UInt16(WGPEER_A_PUBLIC_KEY.rawValue), peer.publicKey)
                var flags: UInt32 = 0
                if peer.remove { flags |= UInt32(WGPEER_F_REMOVE_ME.rawValue) }
                if peer.replaceAllowedIPs { flags |= UInt32(WGPEER_F_REPLACE_ALLOWEDIPS.rawValue) }
                if peer.updateOnly { flags |= UInt32(WGPEER_F_UPDATE_ONLY.rawValue) }
                mnl_attr_put_u32(request, UInt16(WGPEER_A_FLAGS.rawValue), flags)
                if let address = peer.endpointAddress, let port = peer.endpointPort,
                    let endpoint = Self.sockaddr(address, port)
                {
                    put(request, UInt16(WGPEER_A_ENDPOINT.rawValue), endpoint)
                }
                if let keepalive = peer.keepalive {
                    mnl_attr_put_u16(
                        request, UInt16(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue), UInt16(keepalive))
                }
                if !peer.allowedIPs.isEmpty {
                    let allowed = mnl_attr_nest_start(request, UInt16(WGPEER_A_ALLOWEDIPS.rawValue))
                    for (position, cidr) in peer.allowedIPs.enumerated() {
                        let entry = mnl_attr_nest_start(request, UInt16(position))
                        mnl_attr_put_u16(
                            request, UInt16(WGALLOWEDIP_A_FAMILY.rawValue), UInt16(cidr.isIPv6 ? AF_INET6 : AF_INET))
                        put(request, UInt16(WGALLOWEDIP_A_IPADDR.rawValue), IPAddressText.parse(cidr.address) ?? [])
                        mnl_attr_put_u8(request, UInt16(WGALLOWEDIP_A_CIDR_MASK.rawValue), UInt8(cidr.length))
                        mnl_attr_nest_end(request, entry)
                    }
                    mnl_attr_nest_end(request, allowed)
                }
                mnl_attr_nest_end(request, nest)
            }
            mnl_attr_nest_end(request, peers)
        }
        try socket.acknowledge(request, operation: "configure WireGuard \(interface)")
    }

    /// Reads `interface` (private key, port, peers with handshakes and bytes).
    public func get(_ interface: String) throws(NetlinkError) -> WireGuardDevice {
        let socket = try Self.socket(namespace, operation: "read WireGuard \(interface)")
        let family = try familyID(socket)
        let request = socket.header(type: family, flags: UInt16(aios_nlm_f_dump()))
        let header = mnl_nlmsg_put_extra_header(request, MemoryLayout<genlmsghdr>.size)!.assumingMemoryBound(
            to: genlmsghdr.self)
        header.pointee.cmd = UInt8(WG_CMD_GET_DEVICE.rawValue)
        header.pointee.version = UInt8(WG_GENL_VERSION)
        mnl_attr_put_strz(request, UInt16(WGDEVICE_A_IFNAME.rawValue), interface)
        let parts: [WireGuardDevice] = try socket.dump(request, operation: "read WireGuard \(interface)") { message in
            var device = WireGuardDevice(privateKeyHex: nil, listenPort: nil, peers: [])
            NetlinkAttributes.each(message, offset: MemoryLayout<genlmsghdr>.size) { type, attribute in
                switch Int(type) {
                case Int(WGDEVICE_A_PRIVATE_KEY.rawValue):
                    device.privateKeyHex = WireGuardConfiguration.hex(NetlinkAttributes.bytes(attribute))
                case Int(WGDEVICE_A_LISTEN_PORT.rawValue): device.listenPort = Int(mnl_attr_get_u16(attribute))
                case Int(WGDEVICE_A_PEERS.rawValue):
                    NetlinkAttributes.nested(attribute) { _, peerAttribute in
                        device.peers.append(Self.peer(peerAttribute))
                    }
                default: break
                }
            }
            return device
        }
        // A device with many peers comes in several messages: the first has the device, all have peers.
        guard var device = parts.first else {
            throw NetlinkError(operation: "read WireGuard \(interface)", errno: ENODEV)
        }
        device.peers = parts.flatMap(\.peers)
        return device
    }

    private static func peer(_ attribute: UnsafePointer<nlattr>) -> WireGuardPeerState {
        var peer = WireGuardPeerState(
            publicKeyHex: "", endpoint: nil, allowedIPs: [], lastHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: 0)
        NetlinkAttributes.nested(attribute) { type, item in
            switch Int(type) {
            case Int(WGPEER_A_PUBLIC_KEY.rawValue):
                peer.publicKeyHex = WireGuardConfiguration.hex(NetlinkAttributes.bytes(item))
            case Int(WGPEER_A_ENDPOINT.rawValue): peer.endpoint = endpoint(NetlinkAttributes.bytes(item))
            case Int(WGPEER_A_LAST_HANDSHAKE_TIME.rawValue):
                let raw = NetlinkAttributes.bytes(item)
                if raw.count >= 8 {
                    peer.lastHandshake = Int(
                        raw[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                    )
                }
            case Int(WGPEER_A_RX_BYTES.rawValue): peer.rxBytes = Int(mnl_attr_get_u64(item))
            case Int(WGPEER_A_TX_BYTES.rawValue): peer.txBytes = Int(mnl_attr_get_u64(item))
            case Int(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue): peer.keepalive = Int(mnl_attr_get_u16(item))
            case Int(WGPEER_A_ALLOWEDIPS.rawValue):
                NetlinkAttributes.nested(item) { _, entry in
                    var address: [UInt8] = []
                    var mask = 0
                    NetlinkAttributes.nested(entry) { kind, value in
                        if Int(kind) == Int(WGALLOWEDIP_A_IPADDR.rawValue) { address = NetlinkAttributes.bytes(value) }
                        if Int(kind) == Int(WGALLOWEDIP_A_CIDR_MASK.rawValue) { mask = Int(mnl_attr_get_u8(value)) }
                    }
                    if let text = IPAddressText.format(address) { peer.allowedIPs.append("\(text)/\(mask)") }
                }
            default: break
            }
        }
        return peer
    }

    private func put(_ request: UnsafeMutablePointer<nlmsghdr>, _ type: UInt16, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in mnl_attr_put(request, type, raw.count, raw.baseAddress) }
    }

    /// A sockaddr_in / sockaddr_in6 for the endpoint.
    static func sockaddr(_ address: String, _ port: Int) -> [UInt8]? {
        guard let bytes = IPAddressText.parse(address) else { return nil }
        let portBytes = [UInt8(port >> 8), UInt8(port & 0xff)]
        if bytes.count == 4 {
            var raw = [UInt8](repeating: 0, count: MemoryLayout<sockaddr_in>.size)
            raw[0] = UInt8(AF_INET & 0xff)
            raw[1] = UInt8(AF_INET >> 8)
            raw[2] = portBytes[0]
            raw[3] = portBytes[1]
            raw.replaceSubrange(4..<8, with: bytes)
            return raw
        }
        var raw = [UInt8](repeating: 0, count: MemoryLayout<sockaddr_in6>.size)
        raw[0] = UInt8(AF_INET6 & 0xff)
        raw[1] = UInt8(AF_INET6 >> 8)
        raw[2] = portBytes[0]
        raw[3] = portBytes[1]
        raw.replaceSubrange(8..<24, with: bytes)
        return raw
    }

    static func endpoint(_ raw: [UInt8]) -> String? {
        guard raw.count >= 8 else { return nil }
        let family = Int32(raw[0]) | Int32(raw[1]) << 8
        let port = Int(raw[2]) << 8 | Int(raw[3])
        if family == AF_INET, let text = IPAddressText.format(Array(raw[4..<8])) { return "\(text):\(port)" }
        if family == AF_INET6, raw.count >= 24, let text = IPAddressText.format(Array(raw[8..<24])) {
            return "[\(text)]:\(port)"
        }
        return nil
    }
}
