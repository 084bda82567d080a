public import AiosCore
import AiosStore

/// `dns.blocklist_refresh`: read lists again from their sources. Named: that list; none: every
/// list whose refresh interval has passed (what the daemon's timer runs, origin `schedule`).
/// A failed refresh keeps the previous content active and says why.
public struct BlocklistRefreshTool: Tool {
    /// Which lists.
    public struct Input: Decodable, Sendable {
        public var name: String?
        /// Refresh even lists that are not due.
        public var all: Bool?
    }

    /// What happened per list.
    public struct Output: Codable, Sendable {
        public var refreshed: [String]
        public var unchanged: [String]
        public var failed: [Failure]
        /// Lists whose cached copy was used (offline).
        public var fromCache: [String]
        /// Lists read against their index (`dns.blocklist_list`'s `indexed`): only the lines
        /// that changed were parsed and sent.
        public var indexed: [String] = []

        enum CodingKeys: String, CodingKey {
            case refreshed, unchanged, failed, indexed
            case fromCache = "from_cache"
        }
    }

    /// One failure.
    public struct Failure: Codable, Sendable {
        public var name: String
        public var error: String
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.blocklist_refresh",
        summary: "Re-read blocklists from their sources (one, all, or those due); a failure keeps the previous content",
        effect: .change,
        inputSchema: .object(
            [
                "name": .string("Only this list", pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$"),
                "all": .boolean("Refresh every list, due or not"),
            ], examples: [[:], ["name": "ads"], ["all": true]]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let now = toolContext.clock.nowMs()
        var lists = try await context.store.blocklists()
        if let name = input.name {
            lists = lists.filter { $0.name == name }
            if lists.isEmpty {
                throw AiosError(.notFound, "no blocklist named \(name)", location: InputLocation(field: "input.name"))
            }
        } else if input.all != true {
            lists = lists.filter { list in list.refreshMs.map { (list.fetchedMs ?? 0) + $0 <= now } ?? false }
        }
        guard !lists.isEmpty else { return .unchanged(Output(refreshed: [], unchanged: [], failed: [], fromCache: [])) }
        let chosen = lists
        let diff = lists.map { Change("set", "blocklist \($0.name)", detail: "refresh from \($0.source)") }
        let ingest = BlocklistIngest(context: context)
        let store = context.store
        let origin = toolContext.origin.rawValue
        let progress = toolContext.progress
        let context = context
        return .change(
            diff,
            afterward: {
                await context.zones.buildPendingIndexes()
                try? await context.rows.flush()
            }
        ) {
            var output = Output(refreshed: [], unchanged: [], failed: [], fromCache: [])
            for list in chosen {
                do {
                    let content = try await ingest.read(name: list.name, source: list.source)
                    if content.fromCache { output.fromCache.append(list.name) }
                    // From the list's index when it has one: only the lines that changed.
                    if let (_, changed) = try await ingest.commitIndexed(
                        content, list: list, now: now, progress: progress)
                    {
                        output.indexed.append(list.name)
                        if changed || list.status != "active" {
                            output.refreshed.append(list.name)
                        } else {
                            output.unchanged.append(list.name)
                        }
                        continue
                    }
                    let prepared = try ingest.parse(content, name: list.name, source: list.source, progress: progress)
                    if ingest.currentZones(list.name) == prepared.zones && list.status == "active" {
                        // Same content: only note when it was read.
                        var record = list
                        record.fetchedMs = now
                        record.report = BlocklistIngest.report(prepared)
                        try await store.saveBlocklist(
                            record, addedZones: [], removedZones: [], exceptions: Array(prepared.parsed.exceptions))
                        await context.zones.contentReplaced(
                            list.name, content: content.bytes, parsed: prepared.parsed, zones: prepared.zones)
                        output.unchanged.append(list.name)
                    } else {
                        _ = try await ingest.commit(
                            prepared, refreshMs: list.refreshMs, origin: origin, now: now, progress: progress)
                        output.refreshed.append(list.name)
                    }
                } catch {
                    let message = (error as? AiosError)?.message ?? "\(error)"
                    try await store.setBlocklistStatus(
                        list.name, status: "refresh failed: \(message) (previous content active)")
                    output.failed.append(Failure(name: list.name, error: message))
                }
            }
            // Whatever the lists did, the running resolver is checked against them.
            _ = try await context.zones.verify(try await context.settings())
            return output
        }
    }
}
