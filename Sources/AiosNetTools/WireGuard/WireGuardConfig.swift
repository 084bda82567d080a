import AiosCore
import AiosLinux
import Foundation

/// One peer as the tools take it (seed 001's field names).
public struct WireGuardPeer: Codable, Sendable, Hashable {
    /// Base64 public key.
    public var publicKey: String
    /// `HOST:PORT` or `[V6]:PORT`; a host name is resolved, and re-resolved when handshakes go stale.
    public var endpoint: String?
    /// CIDRs routed to this peer.
    public var allowedIPs: [String]
    /// Persistent keepalive, seconds.
    public var keepalive: Int?

    enum CodingKeys: String, CodingKey {
        case endpoint, keepalive
        case publicKey = "public_key", allowedIPs = "allowed_ips"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        publicKey = try container.decode(String.self, forKey: .publicKey)
        endpoint = try container.decodeIfPresent(String.self, forKey: .endpoint)
        keepalive = try container.decodeIfPresent(Int.self, forKey: .keepalive)
        // Seed 001 writes one CIDR as a string; a list is accepted too.
        if let one = try? container.decode(String.self, forKey: .allowedIPs) {
            allowedIPs = one.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else {
            allowedIPs = try container.decodeIfPresent([String].self, forKey: .allowedIPs) ?? []
        }
    }

    init(publicKey: String, endpoint: String?, allowedIPs: [String], keepalive: Int?) {
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.allowedIPs = allowedIPs
        self.keepalive = keepalive
    }

    static let schema: JSONSchema = JSONSchema([
        "type": "object", "additionalProperties": false, "required": ["public_key"],
        "properties": [
            "public_key": ["type": "string", "description": "The peer's base64 public key", "maxLength": 64],
            "endpoint": ["type": "string", "description": "HOST:PORT (a name is resolved)", "maxLength": 300],
            "allowed_ips": ["type": ["string", "array"], "description": "CIDR(s) routed to the peer"],
            "keepalive": ["type": "integer", "minimum": 0, "maximum": 65535],
        ],
    ])

    /// Validates the peer.
    /// - Throws: `AiosError.invalidInput` naming `field`.
    func validated(field: String) throws -> WireGuardPeer {
        guard WireGuardKey.decode(publicKey) != nil else {
            throw AiosError(
                .invalidInput, "not a base64 WireGuard public key (44 characters)",
                location: InputLocation(field: "\(field).public_key"))
        }
        var out = self
        out.allowedIPs = try allowedIPs.enumerated().map { index, text in
            guard let cidr = CIDR(text) else {
                throw AiosError(
                    .invalidInput, "\(text) is not a CIDR",
                    location: InputLocation(field: "\(field).allowed_ips[\(index)]"))
            }
            return cidr.network.description
        }
        if let endpoint { _ = try Endpoint.parse(endpoint, field: "\(field).endpoint") }
        return out
    }
}

/// `HOST:PORT`, `[V6]:PORT`.
struct Endpoint: Sendable, Hashable {
    var host: String
    var port: Int

    static func parse(_ text: String, field: String) throws -> Endpoint {
        var host = text
        var portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(after: close)...].dropFirst())
        } else if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1 {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (1...65535).contains(port), !host.isEmpty else {
            throw AiosError(.invalidInput, "\(text) is not HOST:PORT", location: InputLocation(field: field))
        }
        return Endpoint(host: host, port: port)
    }

    /// True when the host is an address, not a name.
    var isLiteral: Bool { IPAddressText.parse(host) != nil }

    /// The UAPI form of a resolved address.
    static func uapi(_ address: String, port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// What the daemon keeps about a WireGuard interface (no private key).
struct WireGuardSetup: Codable, Sendable, Equatable {
    var interface: String
    var listenPort: Int?
    var address: String?
    var peers: [WireGuardPeer]
    /// For meshes: this node's name and the node list.
    var mesh: JSONValue?

    enum CodingKeys: String, CodingKey {
        case interface, address, peers, mesh
        case listenPort = "listen_port"
    }
}
