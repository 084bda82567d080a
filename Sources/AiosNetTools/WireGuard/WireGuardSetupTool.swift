public import AiosCore
import AiosLinux
import AiosStore

/// `net.wireguard_setup`: a WireGuard interface with seed 001's fields — `interface`,
/// `listen_port`, `address`, `peers` of `{public_key, endpoint, allowed_ips, keepalive}`. There is
/// no `private_key` field: the daemon generates and keeps the key (0600), or imports one from
/// `private_key_ref` (a file); only the public key is ever shown.
public struct WireGuardSetupTool: Tool {
    /// The tunnel.
    public struct Input: Decodable, Sendable {
        public var interface: String
        public var listenPort: Int?
        public var address: String?
        public var peers: [WireGuardPeer]?
        public var privateKeyRef: String?

        enum CodingKeys: String, CodingKey {
            case interface, address, peers
            case listenPort = "listen_port", privateKeyRef = "private_key_ref"
        }
    }

    /// The tunnel in force.
    public struct Output: Codable, Sendable {
        public var interface: String
        /// This end's public key (give it to the peers).
        public var publicKey: String
        public var listenPort: Int?
        public var address: String?
        public var peers: Int
        /// `kernel` or `wireguard-go`.
        public var backend: String

        enum CodingKeys: String, CodingKey {
            case interface, address, peers, backend
            case publicKey = "public_key", listenPort = "listen_port"
        }
    }

    static let interfaceSchema = JSONSchema.string("WireGuard interface name", pattern: "^[A-Za-z0-9_.-]{1,15}$")

    public static let descriptor = ToolDescriptor(
        name: "net.wireguard_setup",
        summary: "Create or update a WireGuard interface (key kept by the daemon; kernel module or wireguard-go)",
        effect: .change,
        inputSchema: .object(
            [
                "interface": interfaceSchema,
                "listen_port": .integer("UDP port", minimum: 1, maximum: 65535),
                "address": .string("This end's address, ADDR/LEN", maxLength: 64),
                "peers": .array(of: WireGuardPeer.schema, "Peers", maxItems: 1024),
                "private_key_ref": .string(
                    "A file holding a base64 private key to import (never printed)", maxLength: 1024),
            ], required: ["interface"],
            examples: [
                [
                    "interface": "wg0", "listen_port": 51820, "address": "10.44.0.1/24",
                    "peers": [
                        [
                            "public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "endpoint": "192.0.2.1:51820",
                            "allowed_ips": "10.44.0.2/32", "keepalive": 25,
                        ]
                    ],
                ]
            ]))

    let context: NetContext

    /// What the firewall must let through for the tunnel to work under a default ruleset (policy
    /// drop both ways): UDP in to the listen port, UDP out to each peer's literal endpoint. Sent
    /// as a `firewall.allow` follow-up through the pipeline (as the same origin), so the policy
    /// judges it and the outcome says if it failed; already-allowed entries are unchanged.
    /// Endpoints given by name are resolved only when applied, so they get no entry here: the
    /// outcome of the follow-up names what was allowed.
    static func firewallAllowance(_ setup: WireGuardSetup) -> [CallRequest] {
        let comment = JSONValue.string("wireguard \(setup.interface)")
        var entries: [JSONValue] = []
        if let port = setup.listenPort {
            entries.append(["chain": "input", "protocol": "udp", "port": .number(Double(port)), "comment": comment])
        }
        for peer in setup.peers {
            guard let text = peer.endpoint, let endpoint = try? Endpoint.parse(text, field: ""), endpoint.isLiteral
            else { continue }
            entries.append([
                "chain": "output", "protocol": "udp", "destination": .string(endpoint.host),
                "port": .number(Double(endpoint.port)), "comment": comment,
            ])
        }
        guard !entries.isEmpty else { return [] }
        return [CallRequest(tool: "firewall.allow", input: ["entries": .array(entries)])]
    }

    /// The input that sets `setup` up again.
    static func input(for setup: WireGuardSetup) throws -> JSONValue {
        var members = try JSONValue(encoding: setup).objectValue ?? [:]
        members["mesh"] = nil
        return .object(members)
    }

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        var setup = WireGuardSetup(
            interface: input.interface, listenPort: input.listenPort, address: nil, peers: [], mesh: nil)
        if let address = input.address {
            guard let cidr = CIDR(address), address.contains("/") else {
                throw AiosError(
                    .invalidInput, "\(address) is not ADDR/LEN", location: InputLocation(field: "input.address"))
            }
            setup.address = "\(cidr.address)/\(cidr.length)"
        }
        setup.peers = try (input.peers ?? []).enumerated().map { try $1.validated(field: "input.peers[\($0)]") }
        let keys = Set(setup.peers.map(\.publicKey))
        if keys.count != setup.peers.count {
            throw AiosError(.invalidInput, "a public key appears twice", location: InputLocation(field: "input.peers"))
        }
        if let reference = input.privateKeyRef, !reference.hasPrefix("/") {
            throw AiosError(
                .invalidInput, "private_key_ref must be an absolute path",
                location: InputLocation(field: "input.private_key_ref"))
        }
        let stored = try await WireGuardApply.stored(input.interface, context: context)
        let running = await context.wireguard.isRunning(input.interface)
        if let (old, record) = stored, old == setup, running, input.privateKeyRef == nil {
            return .unchanged(
                Output(
                    interface: setup.interface, publicKey: record.publicKey, listenPort: setup.listenPort,
                    address: setup.address,
                    peers: setup.peers.count, backend: record.backend))
        }
        let diff = [
            Change(
                stored == nil ? "add" : "set", "wireguard \(setup.interface)",
                detail: "\(setup.peers.count) peers" + (setup.address.map { ", address \($0)" } ?? ""))
        ]
        let inverse: CallRequest =
            if let (old, _) = stored {
                CallRequest(tool: Self.descriptor.name, input: try Self.input(for: old))
            } else {
                CallRequest(tool: WireGuardRemoveTool.descriptor.name, input: ["interface": .string(setup.interface)])
            }
        // A peer's allowed IPs are routes: one that takes the default route's traffic, a
        // management subnet or the gateway can take the machine's traffic with it. Only what this
        // call adds is judged (the rest is in force already).
        let before = Set(stored?.0.peers.flatMap(\.allowedIPs) ?? [])
        let added = setup.peers.flatMap(\.allowedIPs).filter { !before.contains($0) }
        let takesDefault = try await RouteCapture.current(context).reason(any: added) != nil
        let context = context
        let origin = toolContext.origin.rawValue
        let now = toolContext.clock.nowMs()
        let setupValue = setup
        return .change(diff, inverse: inverse, disruptive: takesDefault, followUps: Self.firewallAllowance(setup)) {
            let (publicKey, backend) = try await WireGuardApply.apply(
                setupValue, importing: input.privateKeyRef, context: context, origin: origin, now: now)
            return Output(
                interface: setupValue.interface, publicKey: publicKey, listenPort: setupValue.listenPort,
                address: setupValue.address,
                peers: setupValue.peers.count, backend: backend)
        }
    }
}
