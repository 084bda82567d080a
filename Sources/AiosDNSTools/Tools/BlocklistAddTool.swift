public import AiosCore
import AiosStore

/// `dns.blocklist_add`: ingest a list (file or https URL) in any of the formats real lists use and
/// block its names in the running resolver — only the difference, keeping the cache.
public struct BlocklistAddTool: Tool {
    /// The list.
    public struct Input: Decodable, Sendable {
        public var name: String
        /// An absolute file path or an `https://` URL.
        public var source: String
        /// Refresh interval (`12h`, `1d`); absent: never by itself.
        public var refresh: String?
    }

    /// What was ingested and what changed in the resolver.
    public struct Output: Codable, Sendable {
        public var name: String
        public var source: String
        /// Valid unique names.
        public var unique: Int
        /// Zones after dropping names covered by a listed parent.
        public var zones: Int
        /// Skipped (bad or unsupported) lines, with the first few.
        public var skipped: Int
        public var skippedExamples: [SkippedLine]
        /// `@@` exceptions in the list (never blocked).
        public var exceptions: Int
        /// Local names (`localhost`) skipped silently.
        public var localNames: Int
        public var fromCache: Bool
        public var note: String?
        /// The resolver afterwards.
        public var resolver: ZoneSyncReport?

        enum CodingKeys: String, CodingKey {
            case name, source, unique, zones, skipped, exceptions, note, resolver
            case skippedExamples = "skipped_examples", localNames = "local_names", fromCache = "from_cache"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.blocklist_add",
        summary: "Block the names of a list (file or https URL; hosts, domains, Adblock, dnsmasq, unbound formats)",
        effect: .change,
        inputSchema: .object(
            [
                "name": .string("List name", pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$"),
                "source": .string("Absolute file path or https:// URL", minLength: 2, maxLength: 2048),
                "refresh": .string("Refresh interval (e.g. 12h, 1d); absent: never", maxLength: 16),
            ], required: ["name", "source"],
            examples: [
                ["name": "ads", "source": "/etc/aios-net/lists/ads.txt"],
                ["name": "phishing", "source": "https://example.org/phishing.txt", "refresh": "1d"],
            ]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        try BlocklistSource.check(input.source, field: "input.source")
        let refreshMs = try input.refresh.map { try Self.interval($0, field: "input.refresh") }
        let ingest = BlocklistIngest(context: context)
        let prepared = try await ingest.prepare(name: input.name, source: input.source, progress: toolContext.progress)
        let output = Output(
            name: input.name, source: input.source, unique: prepared.parsed.names.count, zones: prepared.zones.count,
            skipped: prepared.parsed.skipped, skippedExamples: prepared.parsed.skippedExamples,
            exceptions: prepared.parsed.exceptions.count, localNames: prepared.parsed.localNames,
            fromCache: prepared.content.fromCache, note: prepared.content.note, resolver: nil)
        let existing = try await context.store.blocklist(named: input.name)
        if let existing, existing.source == input.source, existing.refreshMs == refreshMs,
            existing.status == "active", ingest.currentZones(input.name) == prepared.zones
        {
            let exceptions = Set(try await context.store.dnsNames(kind: "allow", source: input.name).map(\.name))
            if exceptions == prepared.parsed.exceptions { return .unchanged(output) }
        }
        let diff = [
            Change(
                existing == nil ? "add" : "set", "blocklist \(input.name)",
                detail:
                    "\(prepared.parsed.names.count) names, \(prepared.zones.count) zones, \(prepared.parsed.skipped) skipped"
                    + (prepared.content.fromCache ? " (cached copy)" : ""))
        ]
        let inverse: CallRequest? =
            existing == nil
            ? CallRequest(tool: BlocklistRemoveTool.descriptor.name, input: ["name": .string(input.name)]) : nil
        let origin = toolContext.origin.rawValue
        let now = toolContext.clock.nowMs()
        let progress = toolContext.progress
        let planned = output
        let context = context
        return .change(
            diff, inverse: inverse,
            afterward: {
                await context.zones.buildPendingIndexes()
                try? await context.rows.flush()
            }
        ) {
            var result = planned
            result.resolver = try await ingest.commit(
                prepared, refreshMs: refreshMs, origin: origin, now: now, progress: progress)
            return result
        }
    }

    /// A refresh interval in milliseconds (at least a minute).
    static func interval(_ text: String, field: String) throws -> Int64 {
        guard let milliseconds = try? DurationText.milliseconds(text), milliseconds >= 60_000 else {
            throw AiosError(
                .invalidInput, "\(text) is not an interval of at least 1m (e.g. 30m, 12h, 1d)",
                location: InputLocation(field: field))
        }
        return milliseconds
    }
}
