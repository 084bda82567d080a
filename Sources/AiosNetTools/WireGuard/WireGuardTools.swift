public import AiosCore
import AiosLinux
import AiosStore
import Foundation

/// `net.wireguard_status`: peers with endpoint, latest handshake age and bytes.
public struct WireGuardStatusTool: Tool {
    /// Which interface (default: all).
    public struct Input: Decodable, Sendable {
        public var interface: String?
    }

    /// The devices.
    public struct Output: Codable, Sendable {
        public var interfaces: [Device]
    }

    /// One device.
    public struct Device: Codable, Sendable {
        public var interface: String
        public var publicKey: String
        public var listenPort: Int?
        public var address: String?
        public var backend: String
        public var running: Bool
        public var peers: [Peer]

        enum CodingKeys: String, CodingKey {
            case interface, address, backend, running, peers
            case publicKey = "public_key", listenPort = "listen_port"
        }
    }

    /// One peer.
    public struct Peer: Codable, Sendable {
        public var publicKey: String
        public var endpoint: String?
        public var allowedIPs: [String]
        /// Seconds since the latest handshake; nil when there was none.
        public var latestHandshakeAgeSeconds: Int?
        public var rxBytes: Int
        public var txBytes: Int
        public var keepalive: Int

        enum CodingKeys: String, CodingKey {
            case endpoint, keepalive
            case publicKey = "public_key", allowedIPs = "allowed_ips", latestHandshakeAgeSeconds =
                "latest_handshake_age_s"
            case rxBytes = "rx_bytes", txBytes = "tx_bytes"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_status",
        summary: "WireGuard peers: endpoint, latest handshake age, bytes received and sent",
        effect: .read,
        inputSchema: .object(["interface": WireGuardSetupTool.interfaceSchema], examples: [[:], ["interface": "wg0"]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let context = context
        return .read {
            var records = try await context.store.wireGuardInterfaces()
            if let name = input.interface {
                records = records.filter { $0.interface == name }
                if records.isEmpty {
                    throw AiosError(
                        .notFound, "no WireGuard interface \(name)", location: InputLocation(field: "input.interface"))
                }
            }
            let now = Int(Date().timeIntervalSince1970)
            var devices: [Device] = []
            for record in records {
                let setup = try? record.config.decode(as: WireGuardSetup.self)
                var device = Device(
                    interface: record.interface, publicKey: record.publicKey, listenPort: setup?.listenPort,
                    address: setup?.address,
                    backend: record.backend, running: false, peers: [])
                if let state = try? await context.wireguard.get(record.interface) {
                    device.running = true
                    device.listenPort = state.listenPort
                    device.peers = state.peers.map { peer in
                        Peer(
                            publicKey: WireGuardKey.fromHex(peer.publicKeyHex).map(WireGuardKey.base64) ?? "?",
                            endpoint: peer.endpoint,
                            allowedIPs: peer.allowedIPs,
                            latestHandshakeAgeSeconds: peer.lastHandshake > 0 ? max(0, now - peer.lastHandshake) : nil,
                            rxBytes: peer.rxBytes, txBytes: peer.txBytes, keepalive: peer.keepalive)
                    }
                }
                devices.append(device)
            }
            return Output(interfaces: devices)
        }
    }
}

/// `net.wireguard_peer_add`: add (or update) one peer.
public struct WireGuardPeerAddTool: Tool {
    /// The peer.
    public struct Input: Decodable, Sendable {
        public var interface: String
        public var peer: WireGuardPeer
    }
    public typealias Output = WireGuardSetupTool.Output

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_peer_add", summary: "Add or update one WireGuard peer", effect: .change,
        inputSchema: .object(
            ["interface": WireGuardSetupTool.interfaceSchema, "peer": WireGuardPeer.schema],
            required: ["interface", "peer"],
            examples: [
                [
                    "interface": "wg0",
                    "peer": [
                        "public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "allowed_ips": ["10.44.0.3/32"],
                    ],
                ]
            ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let (old, _) = try await WireGuardApply.stored(input.interface, context: context) else {
            throw AiosError(
                .notFound, "no WireGuard interface \(input.interface); set it up first",
                location: InputLocation(field: "input.interface"))
        }
        let peer = try input.peer.validated(field: "input.peer")
        var setup = old
        setup.peers.removeAll { $0.publicKey == peer.publicKey }
        setup.peers.append(peer)
        return try await WireGuardSetupTool(context: context).plan(
            try WireGuardSetupTool.input(for: setup).decode(), in: toolContext)
    }
}

/// `net.wireguard_peer_remove`: remove one peer.
public struct WireGuardPeerRemoveTool: Tool {
    /// The peer.
    public struct Input: Decodable, Sendable {
        public var interface: String
        public var publicKey: String

        enum CodingKeys: String, CodingKey {
            case interface
            case publicKey = "public_key"
        }
    }
    public typealias Output = WireGuardSetupTool.Output

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_peer_remove", summary: "Remove one WireGuard peer", effect: .change,
        inputSchema: .object(
            [
                "interface": WireGuardSetupTool.interfaceSchema,
                "public_key": .string("The peer's base64 public key", maxLength: 64),
            ],
            required: ["interface", "public_key"],
            examples: [["interface": "wg0", "public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let (old, _) = try await WireGuardApply.stored(input.interface, context: context) else {
            throw AiosError(
                .notFound, "no WireGuard interface \(input.interface)",
                location: InputLocation(field: "input.interface"))
        }
        var setup = old
        setup.peers.removeAll { $0.publicKey == input.publicKey }
        return try await WireGuardSetupTool(context: context).plan(
            try WireGuardSetupTool.input(for: setup).decode(), in: toolContext)
    }
}

/// `net.wireguard_remove`: remove a WireGuard interface (its key goes too).
public struct WireGuardRemoveTool: Tool {
    /// The interface.
    public struct Input: Decodable, Sendable {
        public var interface: String
    }

    /// What was done.
    public struct Output: Codable, Sendable {
        public var interface: String
        public var removed: Bool
    }

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_remove", summary: "Remove a WireGuard interface and its key", effect: .change,
        inputSchema: .object(
            ["interface": WireGuardSetupTool.interfaceSchema], required: ["interface"], examples: [["interface": "wg0"]]
        ))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let stored = try await WireGuardApply.stored(input.interface, context: context)
        let running = await context.wireguard.isRunning(input.interface)
        guard stored != nil || running else { return .unchanged(Output(interface: input.interface, removed: false)) }
        let context = context
        let inverse = try stored.map {
            CallRequest(tool: WireGuardSetupTool.descriptor.name, input: try WireGuardSetupTool.input(for: $0.0))
        }
        return .change(
            [Change("remove", "wireguard \(input.interface)", detail: "and its private key")], inverse: inverse
        ) {
            await context.wireguard.remove(input.interface)
            try await context.store.deleteWireGuard(input.interface)
            // As the summary says: a new interface of the same name gets a new key.
            context.wireguard.keys.delete(input.interface)
            return Output(interface: input.interface, removed: true)
        }
    }
}

/// `net.wireguard_mesh`: from one node list (name, public key, endpoint, address) build this
/// node's side of the full mesh (seed 003's worker/proxy mesh): every other node is a peer
/// reached at its address. Adding a node to the list adds one peer; the same list twice changes
/// nothing.
public struct WireGuardMeshTool: Tool {
    /// The mesh.
    public struct Input: Decodable, Sendable {
        public var interface: String
        public var listenPort: Int?
        /// This node's name in `nodes`.
        public var `self`: String
        public var nodes: [Node]
        public var keepalive: Int?

        enum CodingKeys: String, CodingKey {
            case interface, nodes, keepalive
            case listenPort = "listen_port", `self` = "self"
        }
    }

    /// One node.
    public struct Node: Codable, Sendable, Hashable {
        public var name: String
        /// Base64; this node's own may be omitted (the daemon has it).
        public var publicKey: String?
        public var endpoint: String?
        /// ADDR/LEN in the mesh subnet.
        public var address: String

        enum CodingKeys: String, CodingKey {
            case name, endpoint, address
            case publicKey = "public_key"
        }
    }

    public typealias Output = WireGuardSetupTool.Output

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_mesh", summary: "Build this node's side of a full WireGuard mesh from a node list",
        effect: .change,
        inputSchema: .object(
            [
                "interface": WireGuardSetupTool.interfaceSchema,
                "listen_port": .integer("UDP port", minimum: 1, maximum: 65535),
                "self": .string("This node's name in nodes", maxLength: 64),
                "keepalive": .integer("Persistent keepalive for every peer, seconds", minimum: 0, maximum: 65535),
                "nodes": .array(
                    of: .object(
                        [
                            "name": .string("Node name", maxLength: 64),
                            "public_key": .string("Base64 public key", maxLength: 64),
                            "endpoint": .string("HOST:PORT", maxLength: 300),
                            "address": .string("Mesh address ADDR/LEN", maxLength: 64),
                        ], required: ["name", "address"]), "Every node of the mesh, this one included", minItems: 1,
                    maxItems: 4096),
            ], required: ["interface", "self", "nodes"],
            examples: [
                [
                    "interface": "wg-mesh", "listen_port": 51820, "self": "worker-1",
                    "nodes": [
                        ["name": "worker-1", "endpoint": "192.0.2.1:51820", "address": "10.99.0.1/24"],
                        [
                            "name": "proxy", "public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
                            "endpoint": "192.0.2.2:51820", "address": "10.99.0.2/24",
                        ],
                    ],
                ]
            ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let me = input.nodes.first(where: { $0.name == input.`self` }) else {
            throw AiosError(
                .invalidInput, "no node named \(input.`self`) in nodes", location: InputLocation(field: "input.self"))
        }
        var peers: [WireGuardPeer] = []
        for (index, node) in input.nodes.enumerated() where node.name != me.name {
            guard let key = node.publicKey else {
                throw AiosError(
                    .invalidInput, "node \(node.name) needs its public key",
                    location: InputLocation(field: "input.nodes[\(index)].public_key"))
            }
            guard let cidr = CIDR(node.address) else {
                throw AiosError(
                    .invalidInput, "\(node.address) is not ADDR/LEN",
                    location: InputLocation(field: "input.nodes[\(index)].address"))
            }
            let host = "\(cidr.address)/\(cidr.isIPv6 ? 128 : 32)"
            peers.append(
                try WireGuardPeer(
                    publicKey: key, endpoint: node.endpoint, allowedIPs: [host], keepalive: input.keepalive
                )
                .validated(field: "input.nodes[\(index)]"))
        }
        var setup: [String: JSONValue] = [
            "interface": .string(input.interface), "address": .string(me.address),
            "peers": try JSONValue(encoding: peers),
        ]
        if let port = input.listenPort { setup["listen_port"] = .number(Double(port)) }
        return try await WireGuardSetupTool(context: context).plan(
            try JSONValue.object(setup).decode(), in: toolContext)
    }
}
