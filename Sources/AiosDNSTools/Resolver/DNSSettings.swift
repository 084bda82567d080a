import AiosCore
import AiosLinux

/// What the managed resolver is told to do; persisted (settings key `dns.settings`), changed by
/// `dns.configure`, defaults from the daemon's flags.
public struct DNSSettings: Codable, Sendable, Equatable {
    /// Where unbound listens.
    public var listenAddress: String
    public var port: Int
    /// Upstream resolvers (`ADDR[:PORT][#tls-name]`); empty: recurse from the root hints.
    public var upstreams: [String]
    /// DNS-over-TLS to the upstreams (`forward-tls-upstream`, port 853 unless given).
    public var tls: Bool
    /// Cache TTL bounds, seconds.
    public var cacheMinTTL: Int
    public var cacheMaxTTL: Int
    /// Log every query (unbound's `log-queries`).
    public var queryLog: Bool
    /// `nxdomain` (always_nxdomain) or `null` (always_null: 0.0.0.0 and ::).
    public var blockMode: String
    /// Subnets besides loopback that may query.
    public var accessControl: [String]
    /// The name the guard's lookup probe must resolve after a `dns.configure`.
    public var probeName: String

    enum CodingKeys: String, CodingKey {
        case port, upstreams, tls
        case listenAddress = "listen_address", cacheMinTTL = "cache_min_ttl", cacheMaxTTL = "cache_max_ttl"
        case queryLog = "query_log", blockMode = "block_mode", accessControl = "access_control"
        case probeName = "probe_name"
    }

    /// Settings with the given listen address and upstreams and sane defaults for the rest.
    public init(listenAddress: String = "127.0.0.1", port: Int = 53, upstreams: [String] = []) {
        self.listenAddress = listenAddress
        self.port = port
        self.upstreams = upstreams
        tls = false
        cacheMinTTL = 0
        cacheMaxTTL = 86400
        queryLog = false
        blockMode = "nxdomain"
        accessControl = []
        probeName = "."
    }

    static let key = "dns.settings"

    /// The local-zone type blocked names get.
    var blockZoneType: String { blockMode == "null" ? "always_null" : "always_nxdomain" }

    /// `ADDR@PORT` of the listener, for libunbound and probes.
    var listenForwarder: String { "\(listenAddress)@\(port)" }
}

/// One upstream resolver, parsed from `ADDR`, `ADDR:PORT`, `[V6]:PORT`, each optionally `#tls-name`.
struct Upstream: Sendable, Hashable, Codable {
    var address: String
    var port: Int?
    var tlsName: String?

    /// Parses one upstream.
    /// - Throws: `AiosError.invalidInput` naming `field`.
    static func parse(_ text: String, field: String) throws -> Upstream {
        var rest = Substring(text)
        var tlsName: String?
        if let hash = rest.firstIndex(of: "#") {
            tlsName = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        var address = String(rest)
        var port: Int?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            address = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            address = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? -1
        }
        guard IPAddressText.parse(address) != nil else {
            throw AiosError(
                .invalidInput, "\(text) is not ADDR[:PORT] with an IPv4/IPv6 address (names need a resolver)",
                location: InputLocation(field: field))
        }
        if let port, !(1...65535).contains(port) {
            throw AiosError(.invalidInput, "\(text) has a port outside 1-65535", location: InputLocation(field: field))
        }
        if let tlsName, !tlsName.isEmpty, !ConfigText.isHostName(tlsName) {
            throw AiosError(
                .invalidInput,
                "the TLS name after # in \(JSONValue.string(text).jsonText) is not a host name (letters, digits, hyphens and dots, e.g. dns.quad9.net)",
                location: InputLocation(field: field))
        }
        return Upstream(address: address, port: port, tlsName: tlsName?.isEmpty == true ? nil : tlsName)
    }

    /// unbound's `forward-addr` form: `ADDR@PORT#name`.
    func unbound(tls: Bool) -> String {
        var text = address
        if let port { text += "@\(port)" } else if tls { text += "@853" }
        if tls, let tlsName { text += "#\(tlsName)" }
        return text
    }

    /// The port queries go to.
    func effectivePort(tls: Bool) -> Int { port ?? (tls ? 853 : 53) }
}
