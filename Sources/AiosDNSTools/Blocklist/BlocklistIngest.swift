import AiosCore
import AiosStore
import Foundation

/// Reading, checking and parsing one list, then making it the list's active content.
struct BlocklistIngest: Sendable {
    let context: DNSContext

    /// A parsed list, not yet active.
    struct Prepared: Sendable {
        var name: String
        var source: String
        var content: BlocklistSource.Content
        var parsed: ParsedBlocklist
        var zones: Set<String>
    }

    /// Reads and parses `source` as list `name`.
    /// - Throws: `AiosError` when the source cannot be read or is not a list; nothing changes then.
    func prepare(name: String, source: String, progress: @escaping @Sendable (CallProgress) -> Void) async throws
        -> Prepared
    {
        let content = try await context.source.read(source, list: name)
        try BlocklistSource.sniff(content.bytes, source: source)
        let total = content.bytes.count
        let parsed = BlocklistParser.parse(content.bytes) { done in
            progress(CallProgress(stage: "parsing \(name)", done: done, total: total))
        }
        guard !parsed.names.isEmpty || !parsed.exceptions.isEmpty else {
            let example = parsed.skippedExamples.first.map { " (line \($0.line): \($0.reason))" } ?? ""
            throw AiosError(
                .invalidInput,
                "\(source) is not a blocklist: it holds no valid names in any list format; \(parsed.skipped) lines skipped\(example)",
                location: InputLocation(field: "input.source"))
        }
        if parsed.skipped > 100 && parsed.skipped > parsed.names.count {
            throw AiosError(
                .invalidInput,
                "\(source) is mostly not a blocklist: \(parsed.skipped) lines skipped, \(parsed.names.count) names found",
                location: InputLocation(field: "input.source"))
        }
        return Prepared(
            name: name, source: source, content: content, parsed: parsed, zones: ZoneSet.minimal(parsed.names))
    }

    /// The zones list `name` has now.
    func currentZones(_ name: String) -> Set<String> { Set(BlockZones.readZones(context.paths.zones(name))) }

    /// The report stored with the list and returned to callers.
    static func report(_ prepared: Prepared) -> JSONValue {
        var report: [String: JSONValue] = [
            "lines": .number(Double(prepared.parsed.lines)),
            "exceptions": .number(Double(prepared.parsed.exceptions.count)),
            "local_names": .number(Double(prepared.parsed.localNames)),
            "from_cache": .bool(prepared.content.fromCache),
            "skipped_examples": (try? JSONValue(encoding: prepared.parsed.skippedExamples)) ?? [],
        ]
        if let note = prepared.content.note { report["note"] = .string(note) }
        return .object(report)
    }

    /// Makes `prepared` the list's content: cache and zone files, the store (the list and its
    /// exceptions; the zones attributed to it are scheduled for after the answer), then the
    /// resolver.
    func commit(
        _ prepared: Prepared, refreshMs: Int64?, origin: String, now: Int64,
        progress: @escaping @Sendable (CallProgress) -> Void
    )
        async throws -> ZoneSyncReport
    {
        let previous = currentZones(prepared.name)
        try context.source.keep(prepared.content, list: prepared.name)
        try context.paths.ensureDirectories()
        try BlockZones.writeZones(prepared.zones, to: context.paths.zones(prepared.name))
        let existing = try await context.store.blocklist(named: prepared.name)
        let record = BlocklistRecord(
            name: prepared.name, source: prepared.source, refreshMs: refreshMs, origin: existing?.origin ?? origin,
            createdMs: existing?.createdMs ?? now, fetchedMs: now, uniqueCount: prepared.parsed.names.count,
            zoneCount: prepared.zones.count, skipped: prepared.parsed.skipped, report: Self.report(prepared),
            status: "active")
        // The zones' attribution rows go after the answer (`ListZoneRows`); the list's record,
        // its exceptions and its zone file are what the resolver's state follows.
        try await context.rows.flush()
        try await context.store.saveBlocklist(
            record, addedZones: [], removedZones: [], exceptions: Array(prepared.parsed.exceptions))
        await context.rows.schedule(
            list: prepared.name, added: Array(prepared.zones.subtracting(previous)),
            removed: Array(previous.subtracting(prepared.zones)))
        return try await context.zones.sync(try await context.settings(), progress: progress)
    }
}
