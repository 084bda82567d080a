public import AiosCore
import AiosStore

/// `dns.blocklist_list`: the lists with their counts, status and refresh times (counts, never the names).
public struct BlocklistListTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}

    /// The lists.
    public struct Output: Codable, Sendable {
        public var lists: [List]
        /// Blocked zones and exceptions in force in the resolver.
        public var zones: Int
        public var exceptions: Int
        /// Single names blocked with dns.block / allowed with dns.allow.
        public var blockedNames: Int
        public var allowedNames: Int

        enum CodingKeys: String, CodingKey {
            case lists, zones, exceptions
            case blockedNames = "blocked_names", allowedNames = "allowed_names"
        }
    }

    /// One list.
    public struct List: Codable, Sendable {
        public var name: String
        public var source: String
        public var unique: Int
        public var zones: Int
        public var skipped: Int
        public var status: String
        public var refresh: String?
        public var fetchedMs: Int64?
        public var nextRefreshMs: Int64?
        public var report: JSONValue
        /// True when the list's content is indexed by line in memory: its next refresh parses
        /// only the lines that changed (built after the answer that made the content active).
        public var indexed: Bool

        enum CodingKeys: String, CodingKey {
            case name, source, unique, zones, skipped, status, refresh, report, indexed
            case fetchedMs = "fetched_ms", nextRefreshMs = "next_refresh_ms"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.blocklist_list", summary: "List blocklists with their counts, status and refresh times",
        effect: .read,
        inputSchema: .object(examples: [[:]]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let context = context
        return .read {
            let indexed = await context.zones.indexedLists()
            let lists = try await context.store.blocklists().map { list in
                List(
                    name: list.name, source: list.source, unique: list.uniqueCount, zones: list.zoneCount,
                    skipped: list.skipped, status: list.status,
                    refresh: list.refreshMs.map { DurationText.format(milliseconds: $0) }, fetchedMs: list.fetchedMs,
                    nextRefreshMs: list.refreshMs.map { (list.fetchedMs ?? list.createdMs) + $0 }, report: list.report,
                    indexed: indexed.contains(list.name))
            }
            let counts = await context.zones.counts()
            return Output(
                lists: lists, zones: counts.zones, exceptions: counts.exceptions,
                blockedNames: try await context.store.dnsNames(kind: "block", source: "dns.block").count,
                allowedNames: try await context.store.dnsNames(kind: "allow", source: "dns.allow").count)
        }
    }
}
