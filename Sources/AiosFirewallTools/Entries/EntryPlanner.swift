import AiosCore
import AiosStore
import Foundation

/// Input of `firewall.allow` / `firewall.deny`: one rule, or `entries` (a batch).
public struct EntriesInput: Decodable, Sendable {
    var rule: RuleInput
    var entries: [RuleInput]?

    public init(from decoder: any Decoder) throws {
        rule = try RuleInput(from: decoder)
        let container = try decoder.container(keyedBy: Keys.self)
        entries = try container.decodeIfPresent([RuleInput].self, forKey: .entries)
    }

    private enum Keys: String, CodingKey { case entries }

    static func schema(verdict: String) -> JSONSchema {
        var properties = RuleInput.properties
        properties["entries"] = .array(
            of: .object(RuleInput.properties),
            "A batch of rules (one transaction); comment and expires above are their defaults",
            minItems: 1)
        let examples: [JSONValue] =
            verdict == "allow"
            ? [
                [
                    "chain": "input", "protocol": "tcp", "port": 80, "source": "any", "comment": "nginx",
                    "expires": "2h",
                ],
                [
                    "entries": [["port": 443, "source": "10.0.0.0/8"], ["protocol": "udp", "port": "60000-61000"]],
                    "comment": "batch",
                ],
            ]
            : [["protocol": "tcp", "port": 8080, "source": "203.0.113.0/24", "comment": "scanner"]]
        return .object(properties, examples: examples)
    }
}

/// Output of `firewall.allow` / `firewall.deny`.
public struct EntriesOutput: Codable, Sendable {
    /// The rules added (first 100).
    public var added: [RuleSummary]
    /// How many rules were added in all.
    public var addedCount: Int
    /// Ids of rules that were already in force unchanged.
    public var unchanged: [String]
    /// Set elements written to the kernel.
    public var elements: Int

    enum CodingKeys: String, CodingKey {
        case added, unchanged, elements
        case addedCount = "added_count"
    }
}

/// One rule as reported.
public struct RuleSummary: Codable, Sendable {
    public var id: String
    public var summary: String
    public var comment: String?
    public var expiresMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id, summary, comment
        case expiresMs = "expires_ms"
    }
}

/// Plans allow/deny batches: validation, expiry, idempotency, overlap and protection checks, one
/// transaction of set elements, persisted rules.
struct EntryPlanner: Sendable {
    let table: FirewallTable
    let store: Store
    let active: ActiveRules

    init(table: FirewallTable, store: Store) {
        self.table = table
        self.store = store
        active = ActiveRules(store: store)
    }

    func plan(_ input: EntriesInput, verdict: String, context: ToolContext) async throws -> ToolPlan<EntriesOutput> {
        let now = context.clock.nowMs()
        let single = input.entries == nil
        let raw = input.entries ?? [input.rule]
        if !single && !input.rule.isEmpty {
            throw AiosError(
                .invalidInput,
                "give either one rule's fields or entries, not both (comment and expires may stand beside entries)",
                location: InputLocation(field: "input.entries"))
        }
        let field = Self.fieldPath(single: single)
        let wanted = try await Self.normalise(
            raw, defaults: input.rule, verdict: verdict, now: now, limit: context.limits.maxExpiryMs, single: single)
        let current = try await active.snapshot()
        let live = { (record: FirewallRuleRecord) in record.expiresMs.map { $0 > now } ?? true }

        var unchanged: [String] = []
        var adding: [(record: FirewallRuleRecord, rule: EntryRule, key: String, index: Int, elements: [Element])] = []
        adding.reserveCapacity(wanted.count)
        var seen: Set<String> = []
        seen.reserveCapacity(wanted.count)
        for (index, item) in wanted.enumerated() where seen.insert(item.key).inserted {
            let existing = current.byKey[item.key].flatMap { current.byID[$0] }.flatMap { live($0) ? $0 : nil }
            if let existing, existing.expiresText == item.expiresText {
                unchanged.append(existing.id)
                continue
            }
            if let existing {
                throw AiosError(
                    .invalidInput,
                    "rule \(existing.id) (\(existing.summary)) already exists with expiry \(existing.expiresText ?? "never"); remove it first to change its expiry",
                    location: InputLocation(field: "\(field(index)).expires"))
            }
            let id = Self.newID()
            var summary = item.key
            if let comment = item.comment { summary += " (\(comment))" }
            let record = FirewallRuleRecord(
                id: id, verdict: verdict, specText: item.specText, summary: summary,
                origin: context.origin.rawValue, createdMs: now, expiresMs: item.expiresMs,
                expiresText: item.expiresText)
            adding.append((record, item.rule, item.key, index, item.elements))
        }
        let records = adding.map(\.record)
        let keys = adding.map(\.key)
        let added = records.prefix(100).map {
            RuleSummary(id: $0.id, summary: $0.summary, comment: nil, expiresMs: $0.expiresMs)
        }
        let unchangedIDs = unchanged
        if adding.isEmpty {
            return .unchanged(EntriesOutput(added: [], addedCount: 0, unchanged: unchangedIDs, elements: 0))
        }

        try await checkOverlaps(adding: adding, current: current, now: now, field: field)
        let touches = verdict == "deny" ? try await managementTouched(adding.map(\.rule)) : []
        let cutsManagement = verdict == "deny" ? try await touchesManagementSubnet(adding.map(\.rule)) : false
        var diff = adding.prefix(50).map { item in
            Change(
                "add", "rule \(item.record.id)",
                detail: item.record.summary + (item.record.expiresText.map { ", expires \($0)" } ?? ""))
        }
        if adding.count > 50 { diff.append(Change("add", "\(adding.count - 50) more rules")) }
        let inverse = CallRequest(tool: "firewall.remove", input: ["ids": .array(adding.map { .string($0.record.id) })])
        let elementLists = adding.map(\.elements)
        let commands = Self.addCommands(records: records, elements: elementLists, table: table.name, now: now)
        let elementCount = elementLists.reduce(0) { $0 + $1.count }
        return .change(diff, inverse: inverse, touches: touches, disruptive: cutsManagement) { [table, store, active] in
            let before = store.firewallRulesGeneration
            let kernel = {
                do {
                    try table.apply([], serialised: commands, what: "cannot add the \(verdict) rules")
                } catch let error as AiosError where error.message.contains("No such file or directory") {
                    // Listing the table first costs more than the batch; a missing table or set
                    // shows as the transaction's error instead.
                    throw AiosError(
                        .notFound,
                        "the firewall table or one of its sets is missing: run firewall.apply_default to install or repair it",
                        cause: error)
                }
            }
            let compensate = {
                // Keep kernel and store in step: take the elements out again.
                _ = try? table.apply(Self.deleteCommands(elements: elementLists, table: table.name), what: "compensate")
            }
            if records.count < Self.concurrentBatch {
                try kernel()
                do {
                    try await store.insertFirewallRules(records)
                } catch {
                    compensate()
                    throw error
                }
            } else {
                // A big batch persists its rules while the kernel takes its elements (each takes
                // about as long as the other). A marker, durable first, names the batch: if the
                // daemon dies with the rows committed but the kernel transaction not, the boot
                // reconcile re-adds that batch's elements (see ReconcileTool).
                let marker = Self.pendingKey(records[0].id)
                try await store.setSetting(marker, ["created_ms": .number(Double(now))])
                async let stored: Void = store.insertFirewallRules(records)
                var kernelError: (any Error)?
                do { try kernel() } catch { kernelError = error }
                var storeError: (any Error)?
                do { try await stored } catch { storeError = error }
                if kernelError == nil, storeError != nil { compensate() }
                if kernelError != nil, storeError == nil {
                    _ = try? await store.endFirewallRules(ids: records.map(\.id), state: "removed", endedMs: now)
                }
                if let error = kernelError ?? storeError {
                    try? await store.removeSetting(marker)
                    throw error
                }
                try await store.removeSetting(marker)
            }
            // The cache catches up after the answer (100k records to index): a call that plans
            // before it does sees the generation moved and reloads, so nothing stale is served.
            let after = store.firewallRulesGeneration
            Task { await active.inserted(records, keys: keys, elements: elementLists, before: before, after: after) }
            return EntriesOutput(
                added: added, addedCount: records.count, unchanged: unchangedIDs, elements: elementCount)
        }
    }

    /// One entry, normalised: the rule and everything derived from it that a new record needs.
    struct Normalised: Sendable {
        var rule: EntryRule
        var key: String
        var specText: String
        var elements: [Element]
        var comment: String?
        var expiresMs: Int64?
        var expiresText: String?
    }

    /// `input` or `input.entries[i]`, written only when an error names it.
    static func fieldPath(single: Bool) -> @Sendable (Int) -> String {
        { index in single ? "input" : "input.entries[\(index)]" }
    }

    /// Validates and normalises `raw` in order; a big batch is split across the cores (each chunk
    /// stops at its first error, and the error of the earliest chunk wins, so the error named is
    /// the first in the input, as in one pass). No per-entry field path, JSON tree or expiry
    /// parsing on the way.
    static func normalise(
        _ raw: [RuleInput], defaults: RuleInput, verdict: String, now: Int64, limit: Int64?, single: Bool
    ) async throws -> [Normalised] {
        let field = fieldPath(single: single)
        let chunk = { @Sendable (range: Range<Int>) throws -> [Normalised] in
            var out: [Normalised] = []
            out.reserveCapacity(range.count)
            var expiries: [String: Int64] = [:]
            for index in range {
                let item = raw[index]
                if item.isEmpty && verdict == "allow" {
                    throw AiosError(
                        .invalidInput,
                        "an allow rule needs at least a port, source, destination, interface or protocol",
                        location: InputLocation(field: field(index)))
                }
                let rule = try EntryRule.from(item, verdict: verdict, field: field(index))
                let expiresText = item.expires ?? defaults.expires
                var expiresMs: Int64?
                if let expiresText {
                    if let known = expiries[expiresText] {
                        expiresMs = known
                    } else {
                        let absolute = try Expiry.absolute(
                            expiresText, now: now, limit: limit, field: "\(field(index)).expires")
                        expiries[expiresText] = absolute
                        expiresMs = absolute
                    }
                }
                out.append(
                    Normalised(
                        rule: rule, key: rule.key, specText: rule.specText, elements: rule.elements,
                        comment: item.comment ?? defaults.comment, expiresMs: expiresMs, expiresText: expiresText))
            }
            return out
        }
        let parts = raw.count < 2 * parallelChunk ? 1 : ProcessInfo.processInfo.activeProcessorCount
        guard parts > 1 else { return try chunk(0..<raw.count) }
        let size = (raw.count + parts - 1) / parts
        let results = await withTaskGroup(of: (Int, Result<[Normalised], any Error>).self) { group in
            for part in 0..<parts {
                let range = (part * size)..<min(raw.count, (part + 1) * size)
                group.addTask { (part, Result { try chunk(range) }) }
            }
            var results: [(Int, Result<[Normalised], any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var out: [Normalised] = []
        out.reserveCapacity(raw.count)
        for result in results { out += try result.get() }
        return out
    }

    /// Below twice this many entries a batch is normalised in one pass.
    static let parallelChunk = 5000

    /// From this many rules a batch persists them beside the kernel transaction (under a marker).
    static let concurrentBatch = 1000

    /// Settings key prefix of the markers of batches being applied.
    static let pendingPrefix = "firewall.pending_batch."

    static func pendingKey(_ firstID: String) -> String { pendingPrefix + firstID }

    /// A random 64-bit rule id as 16 hex digits (32-bit ones collided at batch scale).
    static func newID() -> String {
        let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `add element` commands, one per set, with each element's remaining lifetime as its timeout.
    /// - Parameter roundDown: restore whole seconds rounded down, so a restore never extends a lifetime.
    static func addCommands(
        _ rules: [(FirewallRuleRecord, EntryRule)], table: String, now: Int64, roundDown: Bool = false
    ) -> [String] {
        addCommands(
            records: rules.map(\.0), elements: rules.map(\.1.elements), table: table, now: now, roundDown: roundDown)
    }

    /// `add element` commands (serialised: a 100k batch would otherwise build a million JSON
    /// nodes only to print them) for rules whose elements are already computed (`elements[i]`
    /// are `records[i]`'s). A new rule's timeout rounds up to whole seconds; a restore rounds
    /// down, so it never extends a lifetime.
    static func addCommands(
        records: [FirewallRuleRecord], elements: [[Element]], table: String, now: Int64, roundDown: Bool = false
    ) -> [String] {
        var bySet: [String: String] = [:]
        var order: [String] = []
        for (record, elements) in zip(records, elements) {
            var tail = ",\"comment\":\"aios:\(record.id)\""
            if let expires = record.expiresMs {
                let seconds = roundDown ? (expires - now) / 1000 : (expires - now + 999) / 1000
                tail += ",\"timeout\":\(max(1, seconds))"
            }
            tail += "}}"
            for element in elements {
                if bySet[element.set] == nil {
                    order.append(element.set)
                    bySet[element.set] = ""
                } else {
                    bySet[element.set]!.append(",")
                }
                bySet[element.set]!.append("{\"elem\":{\"val\":")
                element.writeValue(into: &bySet[element.set]!)
                bySet[element.set]!.append(tail)
            }
        }
        let tableText = JSONValue.string(table).jsonText
        return order.map { name in
            "{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\(tableText),\"name\":\(JSONValue.string(name).jsonText),\"elem\":["
                + bySet[name]! + "]}}}"
        }
    }

    /// `delete element` commands for `rules`.
    static func deleteCommands(_ rules: [EntryRule], table: String) -> [JSONValue] {
        deleteCommands(elements: rules.map(\.elements), table: table)
    }

    /// `delete element` commands for precomputed elements.
    static func deleteCommands(elements rules: [[Element]], table: String) -> [JSONValue] {
        var bySet: [String: [JSONValue]] = [:]
        for elements in rules {
            for element in elements { bySet[element.set, default: []].append(element.value) }
        }
        return bySet.keys.sorted().map { name in
            [
                "delete": [
                    "element": [
                        "family": "inet", "table": .string(table), "name": .string(name), "elem": .array(bySet[name]!),
                    ]
                ]
            ]
        }
    }

    /// Refuses elements the kernel would refuse: against the rules in force (their index is
    /// cached per store generation) and within the batch.
    private func checkOverlaps(
        adding: [(record: FirewallRuleRecord, rule: EntryRule, key: String, index: Int, elements: [Element])],
        current: ActiveRules.Snapshot, now: Int64, field: (Int) -> String
    ) async throws {
        var current = current
        var fields: [String: String] = [:]
        var entries: [OverlapIndex.Entry] = []
        for item in adding {
            let indexed = ActiveRules.indexed(item.elements, owner: item.record.id)
            guard !indexed.isEmpty else { continue }
            fields[item.record.id] = field(item.index)
            entries += indexed
        }
        // Only boxes can overlap (exact elements are neither indexed nor checked).
        guard !entries.isEmpty else { return }
        let batch = OverlapIndex(entries)
        var exact = false
        for item in adding {
            for element in item.elements where !element.shape.isExact {
                if let other = batch.conflict(for: element, owner: item.record.id) {
                    throw Self.overlap(fields[other] ?? other, field: field(item.index))
                }
                guard let other = current.conflict(for: element, owner: item.record.id),
                    let record = current.byID[other]
                else { continue }
                if record.expiresMs.map({ $0 > now }) ?? true {
                    throw Self.overlap("rule \(record.id) (\(record.summary))", field: field(item.index))
                }
                // The rule in the way has expired but is not ended yet: judge against the live
                // rules only (rare, so rebuilt here rather than cached).
                if !exact {
                    let live = try await store.activeFirewallRules(unexpiredAt: now)
                    current = ActiveRules.build(live).0
                    exact = true
                    if let again = current.conflict(for: element, owner: item.record.id),
                        let record = current.byID[again]
                    {
                        throw Self.overlap("rule \(record.id) (\(record.summary))", field: field(item.index))
                    }
                }
            }
        }
    }

    private static func overlap(_ other: String, field: String) -> AiosError {
        AiosError(
            .invalidInput,
            "overlaps \(other): an nftables interval set cannot hold a range that starts or ends inside another; remove that rule or make this one disjoint",
            location: InputLocation(field: field))
    }

    /// True when a deny matches traffic from or to a management subnet (any port): it can cut the
    /// operators' path, so it is disruptive and runs under the guard.
    private func touchesManagementSubnet(_ rules: [EntryRule]) async throws -> Bool {
        let intent: ManagementIntent? = try await store.setting(ManagementIntent.settingKey).map { try $0.decode() }
        guard let intent else { return false }
        return rules.contains { rule in
            intent.subnets.contains { subnet in
                let family = subnet.contains(":") ? "v6" : "v4"
                guard rule.families.contains(family) else { return false }
                let management = AddressRange(subnet, family: family)
                return AddressRange(rule.source, family: family).overlaps(management)
                    && (rule.chain != "output" || rule.source != "any")
                    || AddressRange(rule.destination, family: family).overlaps(management)
                        && (rule.chain != "input" || rule.destination != "any")
            }
        }
    }

    private func managementTouched(_ rules: [EntryRule]) async throws -> [ProtectedItem] {
        let intent: ManagementIntent? = try await store.setting(ManagementIntent.settingKey).map { try $0.decode() }
        guard let intent else { return [] }
        var items: [ProtectedItem] = []
        for rule in rules where rule.chain == "input" && (rule.protocolName == "tcp" || rule.protocolName == "any") {
            let ports = intent.ports.filter { port in rule.ports?.contains { $0.low <= port && port <= $0.high } ?? true
            }
            guard !ports.isEmpty else { continue }
            for subnet in intent.subnets {
                let family = subnet.contains(":") ? "v6" : "v4"
                guard rule.families.contains(family),
                    AddressRange(rule.source, family: family).overlaps(AddressRange(subnet, family: family))
                else { continue }
                items.append(
                    ProtectedItem(
                        kind: "firewall_rule",
                        attributes: [
                            "role": "management", "port": ports.map(String.init).joined(separator: ","),
                            "source": subnet,
                        ]))
            }
        }
        return items
    }
}

/// Expiry texts: a duration from now, or an RFC 3339 time.
enum Expiry {
    static func absolute(_ text: String, now: Int64, limit: Int64?, field: String) throws -> Int64 {
        let expires: Int64
        if let milliseconds = try? DurationText.milliseconds(text) {
            guard milliseconds > 0 else {
                throw AiosError(.invalidInput, "expiry must be in the future", location: InputLocation(field: field))
            }
            expires = now + milliseconds
        } else {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = formatter.date(from: text) ?? fractional.date(from: text) else {
                throw AiosError(
                    .invalidInput,
                    "\"\(text)\" is neither a duration (2h, 30m) nor an RFC 3339 time (2026-11-24T18:00:00Z)",
                    location: InputLocation(field: field))
            }
            expires = Int64(date.timeIntervalSince1970 * 1000)
            guard expires > now else {
                throw AiosError(.invalidInput, "\(text) is in the past", location: InputLocation(field: field))
            }
        }
        if let limit, expires - now > limit {
            throw AiosError(
                .invalidInput,
                "expiry \(text) is over the policy's maximum of \(DurationText.format(milliseconds: limit)) (limits.max_expiry)",
                location: InputLocation(field: field))
        }
        return expires
    }
}
