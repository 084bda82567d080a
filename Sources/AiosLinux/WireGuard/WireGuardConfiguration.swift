/// A WireGuard configuration change, independent of who carries it out: the UAPI (wireguard-go)
/// renders it as `key=value` lines, the kernel module's generic netlink family as attributes.
public struct WireGuardConfiguration: Sendable, Hashable {
    /// The interface's private key (32 bytes), when it changes.
    public var privateKey: [UInt8]?
    public var listenPort: Int?
    /// The peers below replace every current one.
    public var replacePeers: Bool
    public var peers: [Peer]

    /// One peer's change.
    public struct Peer: Sendable, Hashable {
        /// Its public key (32 bytes).
        public var publicKey: [UInt8]
        /// `ADDR` and port, already resolved.
        public var endpointAddress: String?
        public var endpointPort: Int?
        /// Persistent keepalive, seconds (0 off).
        public var keepalive: Int?
        public var allowedIPs: [CIDR]
        public var replaceAllowedIPs: Bool
        /// Only change a peer that exists.
        public var updateOnly: Bool
        /// Remove the peer.
        public var remove: Bool

        /// Creates a peer change.
        public init(
            publicKey: [UInt8], endpointAddress: String? = nil, endpointPort: Int? = nil, keepalive: Int? = nil,
            allowedIPs: [CIDR] = [], replaceAllowedIPs: Bool = true, updateOnly: Bool = false, remove: Bool = false
        ) {
            self.publicKey = publicKey
            self.endpointAddress = endpointAddress
            self.endpointPort = endpointPort
            self.keepalive = keepalive
            self.allowedIPs = allowedIPs
            self.replaceAllowedIPs = replaceAllowedIPs
            self.updateOnly = updateOnly
            self.remove = remove
        }
    }

    /// Creates a change.
    public init(privateKey: [UInt8]? = nil, listenPort: Int? = nil, replacePeers: Bool = false, peers: [Peer] = []) {
        self.privateKey = privateKey
        self.listenPort = listenPort
        self.replacePeers = replacePeers
        self.peers = peers
    }

    /// The UAPI `set=1` lines (hex keys; never log them).
    public var uapiLines: [String] {
        var lines: [String] = []
        if let privateKey { lines.append("private_key=\(Self.hex(privateKey))") }
        if let listenPort { lines.append("listen_port=\(listenPort)") }
        if replacePeers { lines.append("replace_peers=true") }
        for peer in peers {
            lines.append("public_key=\(Self.hex(peer.publicKey))")
            if peer.remove {
                lines.append("remove=true")
                continue
            }
            if peer.updateOnly { lines.append("update_only=true") }
            if let address = peer.endpointAddress, let port = peer.endpointPort {
                lines.append("endpoint=\(address.contains(":") ? "[\(address)]" : address):\(port)")
            }
            if let keepalive = peer.keepalive { lines.append("persistent_keepalive_interval=\(keepalive)") }
            if peer.replaceAllowedIPs { lines.append("replace_allowed_ips=true") }
            lines += peer.allowedIPs.map { "allowed_ip=\($0)" }
        }
        return lines
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }
}
