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

    /// Reads `source` for list `name` and refuses what is not a list (empty, HTML, binary).
    func read(name: String, source: String) async throws -> BlocklistSource.Content {
        let content = try await context.source.read(source, list: name)
        try BlocklistSource.sniff(content.bytes, source: source)
        return content
    }

    /// Reads and parses `source` as list `name`.
    /// - Throws: `AiosError` when the source cannot be read or is not a list; nothing changes then.
    func prepare(name: String, source: String, progress: @escaping @Sendable (CallProgress) -> Void) async throws
        -> Prepared
    {
        try parse(try await read(name: name, source: source), name: name, source: source, progress: progress)
    }

    /// Parses `content` (read from `source`) as list `name`.
    func parse(
        _ content: BlocklistSource.Content, name: String, source: String,
        progress: @escaping @Sendable (CallProgress) -> Void
    ) throws -> Prepared {
        let total = content.bytes.count
        let parsed = BlocklistParser.parse(content.bytes) { done in
            progress(CallProgress(stage: "parsing \(name)", done: done, total: total))
        }
        try Self.check(
            source: source, unique: parsed.names.count, exceptions: parsed.exceptions.count, skipped: parsed.skipped,
            examples: parsed.skippedExamples)
        return Prepared(
            name: name, source: source, content: content, parsed: parsed, zones: ZoneSet.minimal(parsed.names))
    }

    /// Refuses a content with nothing to block or allow, or one that is mostly not a list.
    static func check(source: String, unique: Int, exceptions: Int, skipped: Int, examples: [SkippedLine]) throws {
        guard unique > 0 || exceptions > 0 else {
            let example = examples.first.map { " (line \($0.line): \($0.reason))" } ?? ""
            throw AiosError(
                .invalidInput,
                "\(source) is not a blocklist: it holds no valid names in any list format; \(skipped) lines skipped\(example)",
                location: InputLocation(field: "input.source"))
        }
        if skipped > 100 && skipped > unique {
            throw AiosError(
                .invalidInput, "\(source) is mostly not a blocklist: \(skipped) lines skipped, \(unique) names found",
                location: InputLocation(field: "input.source"))
        }
    }

    /// The zones list `name` has now.
    func currentZones(_ name: String) -> Set<String> { Set(ZoneFiles.readZones(context.paths.zones(name))) }

    /// The report stored with the list and returned to callers.
    static func report(_ prepared: Prepared) -> JSONValue {
        report(
            lines: prepared.parsed.lines, exceptions: prepared.parsed.exceptions.count,
            localNames: prepared.parsed.localNames, examples: prepared.parsed.skippedExamples, content: prepared.content
        )
    }

    static func report(
        lines: Int, exceptions: Int, localNames: Int, examples: [SkippedLine], content: BlocklistSource.Content
    ) -> JSONValue {
        var report: [String: JSONValue] = [
            "lines": .number(Double(lines)),
            "exceptions": .number(Double(exceptions)),
            "local_names": .number(Double(localNames)),
            "from_cache": .bool(content.fromCache),
            "skipped_examples": (try? JSONValue(encoding: examples)) ?? [],
        ]
        if let note = content.note { report["note"] = .string(note) }
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
        await context.zones.contentReplaced(
            prepared.name, content: prepared.content.bytes, parsed: prepared.parsed, zones: prepared.zones)
        try ZoneFiles.writeZones(prepared.zones, to: context.paths.zones(prepared.name))
        let existing = try await context.store.blocklist(named: prepared.name)
        let record = BlocklistRecord(
            name: prepared.name, source: prepared.source, refreshMs: refreshMs, origin: existing?.origin ?? origin,
            createdMs: existing?.createdMs ?? now, fetchedMs: now, uniqueCount: prepared.parsed.names.count,
            zoneCount: prepared.zones.count, skipped: prepared.parsed.skipped, report: Self.report(prepared),
            status: "active")
        // The zones' attribution rows go after the answer (`ListZoneRows`, in order with those
        // of earlier calls); the list's record, its exceptions and its zone file are what the
        // resolver's state follows.
        try await context.store.saveBlocklist(
            record, addedZones: [], removedZones: [], exceptions: Array(prepared.parsed.exceptions))
        await context.rows.schedule(
            list: prepared.name, added: Array(prepared.zones.subtracting(previous)),
            removed: Array(previous.subtracting(prepared.zones)))
        return try await context.zones.sync(try await context.settings(), progress: progress)
    }

    /// Makes `content` list `list`'s content from the list's index (`ListIndex`), when it has
    /// one: the same checks, record and rows as `commit`, from the lines that changed.
    /// - Returns: nil when the list has no index (then `parse` and `commit` it), else the
    ///   resolver's report and whether the list blocks or excepts anything it did not.
    func commitIndexed(
        _ content: BlocklistSource.Content, list: BlocklistRecord, now: Int64,
        progress: @escaping @Sendable (CallProgress) -> Void
    ) async throws -> (report: ZoneSyncReport, changed: Bool)? {
        let context = context
        let result = try await context.zones.applyListChange(
            list.name, content: content.bytes, settings: try await context.settings(),
            check: { update in
                try Self.check(
                    source: list.source, unique: update.unique, exceptions: update.exceptionCount,
                    skipped: update.skipped, examples: update.skippedExamples)
            },
            persist: { update in
                try context.source.keep(content, list: list.name)
                var record = list
                record.fetchedMs = now
                record.uniqueCount = update.unique
                record.zoneCount = update.zoneCount
                record.skipped = update.skipped
                record.status = "active"
                record.report = Self.report(
                    lines: update.lines, exceptions: update.exceptionCount, localNames: update.localNames,
                    examples: update.skippedExamples, content: content)
                let exceptions = Array(
                    Set(try await context.store.dnsNames(kind: "allow", source: list.name).map(\.name))
                        .subtracting(update.removedExceptions).union(update.addedExceptions))
                try await context.store.saveBlocklist(
                    record, addedZones: [], removedZones: [], exceptions: exceptions)
                await context.rows.schedule(list: list.name, added: update.addedZones, removed: update.removedZones)
            }, progress: progress)
        return result.map { ($0.report, !$0.update.sameNames) }
    }
}
