public import AiosCore
import AiosLinux
import AiosStore
import AiosUnbound
import Foundation

/// `dns.status`: is the managed unbound running, which version, are the upstreams reachable,
/// cache size and hit rate, blocklist entry count, memory.
public struct DNSStatusTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}

    /// The resolver's state.
    public struct Output: Codable, Sendable {
        public var running: Bool
        public var pid: Int?
        public var version: String?
        public var uptimeSeconds: Int?
        public var listen: String
        public var upstreams: [UpstreamState]
        public var tls: Bool
        public var cache: Cache?
        public var blocklist: Blocklist
        public var memory: Memory?
        public var queryLog: Bool
        public var blockMode: String
        /// Why it is not running, when it is not.
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case running, pid, version, listen, upstreams, tls, cache, blocklist, memory, problem
            case uptimeSeconds = "uptime_seconds", queryLog = "query_log", blockMode = "block_mode"
        }
    }

    /// One upstream.
    public struct UpstreamState: Codable, Sendable {
        public var address: String
        public var reachable: Bool
        public var milliseconds: Double?
        public var error: String?
    }

    /// Cache figures (since the last reset of unbound's counters).
    public struct Cache: Codable, Sendable {
        public var messages: Int
        public var rrsets: Int
        public var queries: Int
        public var hits: Int
        public var misses: Int
        public var hitRate: Double

        enum CodingKeys: String, CodingKey {
            case messages, rrsets, queries, hits, misses
            case hitRate = "hit_rate"
        }
    }

    /// Blocklist figures.
    public struct Blocklist: Codable, Sendable {
        public var lists: Int
        public var zones: Int
        public var exceptions: Int
    }

    /// Memory.
    public struct Memory: Codable, Sendable {
        public var rssBytes: Int
        public var cacheBytes: Int

        enum CodingKeys: String, CodingKey {
            case rssBytes = "rss_bytes", cacheBytes = "cache_bytes"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.status",
        summary:
            "Managed resolver: running, version, upstream reachability, cache size and hit rate, blocklist size, memory",
        effect: .read, inputSchema: .object(examples: [[:]]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let context = context
        return .read {
            let settings = try await context.settings()
            let counts = await context.zones.counts()
            let lists = try await context.store.blocklists().count
            var output = Output(
                running: false, listen: "\(settings.listenAddress):\(settings.port)", upstreams: [], tls: settings.tls,
                blocklist: Blocklist(lists: lists, zones: counts.zones, exceptions: counts.exceptions),
                queryLog: settings.queryLog, blockMode: settings.blockMode)
            output.upstreams = await Self.probe(settings)
            guard let pid = await context.resolver.runningPID else {
                output.problem = "unbound is not running: \(context.resolver.logTail(3))"
                return output
            }
            output.running = true
            output.pid = Int(pid)
            if let status = try? await context.resolver.run("status") {
                for line in status.split(separator: "\n") {
                    if line.hasPrefix("version: ") { output.version = String(line.dropFirst(9)) }
                    if line.hasPrefix("uptime: ") {
                        output.uptimeSeconds = Int(line.dropFirst(8).split(separator: " ").first ?? "")
                    }
                }
            }
            if let stats = try? await Offload.run({ try context.resolver.control.statistics() }) {
                let hits = Int(stats["total.num.cachehits"] ?? 0)
                let misses = Int(stats["total.num.cachemiss"] ?? 0)
                output.cache = Cache(
                    messages: Int(stats["msg.cache.count"] ?? 0), rrsets: Int(stats["rrset.cache.count"] ?? 0),
                    queries: Int(stats["total.num.queries"] ?? 0), hits: hits, misses: misses,
                    hitRate: hits + misses > 0 ? Double(hits) / Double(hits + misses) : 0)
                output.memory = Memory(
                    rssBytes: Self.rss(pid),
                    cacheBytes: Int((stats["mem.cache.rrset"] ?? 0) + (stats["mem.cache.message"] ?? 0)))
            }
            return output
        }
    }

    /// Each upstream asked for the root's NS directly (DNS-over-TLS ones: a TCP connect to 853).
    static func probe(_ settings: DNSSettings) async -> [UpstreamState] {
        await withTaskGroup(of: (Int, UpstreamState).self) { group in
            for (index, text) in settings.upstreams.enumerated() {
                group.addTask {
                    guard let upstream = try? Upstream.parse(text, field: "upstreams") else {
                        return (index, UpstreamState(address: text, reachable: false, error: "not an address"))
                    }
                    let port = upstream.effectivePort(tls: settings.tls)
                    do {
                        let ms: Double
                        if settings.tls {
                            ms = try await Offload.run {
                                try TCPConnect.probe(address: upstream.address, port: port, timeoutMs: 1500)
                            }
                        } else {
                            ms = try await Offload.run {
                                try DNSProbe.query(".", type: 2, address: upstream.address, port: port, timeoutMs: 1500)
                                    .milliseconds
                            }
                        }
                        return (index, UpstreamState(address: text, reachable: true, milliseconds: ms))
                    } catch {
                        return (index, UpstreamState(address: text, reachable: false, error: "\(error)"))
                    }
                }
            }
            var out: [(Int, UpstreamState)] = []
            for await item in group { out.append(item) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func rss(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
