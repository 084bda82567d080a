public import AiosCore
import AiosLinux
import AiosStore

/// `dns.configure`: upstreams (plain or DNS-over-TLS), cache TTL bounds, query logging, block
/// mode, who may query, where to listen. Disruptive — a resolver that cannot resolve cuts the
/// machine off — so it runs under the guard with a lookup probe, and rolls back when the probe
/// fails. Applied at run time where unbound allows (forwarders, TTLs, logging, block mode);
/// the listen address, access control and TLS need a restart, which drops the cache.
public struct DNSConfigureTool: Tool {
    /// What to change; absent fields stay as they are.
    public struct Input: Decodable, Sendable {
        public var upstreams: [String]?
        public var tls: Bool?
        public var cacheMinTTL: Int?
        public var cacheMaxTTL: Int?
        public var queryLog: Bool?
        public var blockMode: String?
        public var accessControl: [String]?
        public var listen: String?
        public var probeName: String?

        enum CodingKeys: String, CodingKey {
            case upstreams, tls, listen
            case cacheMinTTL = "cache_min_ttl", cacheMaxTTL = "cache_max_ttl", queryLog = "query_log"
            case blockMode = "block_mode", accessControl = "access_control", probeName = "probe_name"
        }
    }

    public typealias Output = DNSSettings

    public static let descriptor = ToolDescriptor(
        name: "dns.configure",
        summary: "Change the resolver's upstreams (DoT or plain), cache TTLs, query log, block mode, access (guarded)",
        effect: .disruptive,
        inputSchema: .object(
            [
                "upstreams": .array(
                    of: .string("ADDR[:PORT][#tls-name]", maxLength: 300),
                    "Upstream resolvers; [] recurses from the root",
                    maxItems: 8),
                "tls": .boolean("DNS-over-TLS to the upstreams (port 853 unless given)"),
                "cache_min_ttl": .integer("Lower bound on cached TTLs, seconds", minimum: 0, maximum: 86400),
                "cache_max_ttl": .integer("Upper bound on cached TTLs, seconds", minimum: 1, maximum: 604800),
                "query_log": .boolean("Log every query"),
                "block_mode": .string("Answer for blocked names", values: ["nxdomain", "null"]),
                "access_control": .array(
                    of: .string("IPv4/IPv6 subnet", maxLength: 64), "Subnets besides loopback that may query"),
                "listen": .string("ADDR[:PORT] to listen on (restarts the resolver)", maxLength: 64),
                "probe_name": .string("The name the guard's lookup probe must resolve", maxLength: 255),
            ],
            examples: [
                ["upstreams": ["192.0.2.53"]],
                ["upstreams": ["1.1.1.1#cloudflare-dns.com", "9.9.9.9#dns.quad9.net"], "tls": true],
                ["cache_min_ttl": 60, "query_log": true, "block_mode": "null"],
            ]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let old = try await context.settings()
        var new = old
        if let upstreams = input.upstreams {
            for (index, text) in upstreams.enumerated() {
                _ = try Upstream.parse(text, field: "input.upstreams[\(index)]")
            }
            new.upstreams = upstreams
        }
        if let tls = input.tls { new.tls = tls }
        if let value = input.cacheMinTTL { new.cacheMinTTL = value }
        if let value = input.cacheMaxTTL { new.cacheMaxTTL = value }
        guard new.cacheMinTTL <= new.cacheMaxTTL else {
            throw AiosError(
                .invalidInput, "cache_min_ttl \(new.cacheMinTTL) is above cache_max_ttl \(new.cacheMaxTTL)",
                location: InputLocation(field: "input.cache_min_ttl"))
        }
        if let value = input.queryLog { new.queryLog = value }
        if let value = input.blockMode { new.blockMode = value }
        if let subnets = input.accessControl {
            new.accessControl = try subnets.enumerated().map { index, text in
                guard let cidr = CIDR(text) else {
                    throw AiosError(
                        .invalidInput, "\(text) is not an IPv4/IPv6 subnet",
                        location: InputLocation(field: "input.access_control[\(index)]"))
                }
                return cidr.network.description
            }
        }
        if let listen = input.listen {
            let parsed = try Upstream.parse(listen, field: "input.listen")
            new.listenAddress = parsed.address
            new.port = parsed.port ?? 53
        }
        if let name = input.probeName { new.probeName = name }
        let diff = Self.diff(old, new)
        guard !diff.isEmpty else { return .unchanged(new) }
        let inverse = CallRequest(tool: Self.descriptor.name, input: Self.input(for: old))
        let probe = CallRequest(
            tool: LookupTool.descriptor.name, input: ["name": .string(new.probeName), "must_resolve": true])
        let context = context
        let updated = new
        return .change(diff, inverse: inverse, probe: probe) {
            try await context.save(updated)
            let restart =
                old.listenAddress != updated.listenAddress || old.port != updated.port
                || old.accessControl != updated.accessControl
                || old.tls != updated.tls
            if await context.resolver.runningPID == nil || restart {
                try await context.resolver.restart(updated)
                await context.zones.resolverRestarted()
            } else {
                if old.upstreams != updated.upstreams {
                    let forwarders = updated.upstreams.compactMap {
                        try? Upstream.parse($0, field: "").unbound(tls: updated.tls)
                    }
                    _ = try await context.resolver.run(
                        forwarders.isEmpty ? "forward off" : "forward \(forwarders.joined(separator: " "))")
                    _ = try await context.resolver.run("flush_infra all")
                }
                if old.cacheMinTTL != updated.cacheMinTTL {
                    _ = try await context.resolver.run("set_option cache-min-ttl: \(updated.cacheMinTTL)")
                }
                if old.cacheMaxTTL != updated.cacheMaxTTL {
                    _ = try await context.resolver.run("set_option cache-max-ttl: \(updated.cacheMaxTTL)")
                }
                if old.queryLog != updated.queryLog {
                    _ = try await context.resolver.run("set_option log-queries: \(updated.queryLog ? "yes" : "no")")
                }
                try await context.resolver.rewriteConfig(updated)
            }
            if old.blockMode != updated.blockMode { _ = try await context.zones.sync(updated) }
            return updated
        }
    }

    static func diff(_ old: DNSSettings, _ new: DNSSettings) -> [Change] {
        var out: [Change] = []
        func add<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { out.append(Change("set", "dns \(name)", detail: "\(a) → \(b)")) }
        }
        add("upstreams", old.upstreams, new.upstreams)
        add("tls", old.tls, new.tls)
        add("cache_min_ttl", old.cacheMinTTL, new.cacheMinTTL)
        add("cache_max_ttl", old.cacheMaxTTL, new.cacheMaxTTL)
        add("query_log", old.queryLog, new.queryLog)
        add("block_mode", old.blockMode, new.blockMode)
        add("access_control", old.accessControl, new.accessControl)
        add("listen", "\(old.listenAddress):\(old.port)", "\(new.listenAddress):\(new.port)")
        add("probe_name", old.probeName, new.probeName)
        return out
    }

    /// The input that puts `settings` back.
    static func input(for settings: DNSSettings) -> JSONValue {
        let listen =
            settings.listenAddress.contains(":")
            ? "[\(settings.listenAddress)]:\(settings.port)" : "\(settings.listenAddress):\(settings.port)"
        return [
            "upstreams": .array(settings.upstreams.map(JSONValue.string)), "tls": .bool(settings.tls),
            "cache_min_ttl": .number(Double(settings.cacheMinTTL)),
            "cache_max_ttl": .number(Double(settings.cacheMaxTTL)),
            "query_log": .bool(settings.queryLog), "block_mode": .string(settings.blockMode),
            "access_control": .array(settings.accessControl.map(JSONValue.string)), "listen": .string(listen),
            "probe_name": .string(settings.probeName),
        ]
    }
}
