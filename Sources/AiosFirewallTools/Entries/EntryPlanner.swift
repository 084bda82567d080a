import AiosCore
import AiosLinux
import AiosStore
import Foundation

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
        let raw = input.items
        if !single && !input.rule.isEmpty {
            throw AiosError(
                .invalidInput,
                "give either one rule's fields or entries, not both (comment and expires may stand beside entries)",
                location: InputLocation(field: "input.entries"))
        }
        let field = Self.fieldPath(single: single)
        // Taken before the snapshot: a change committed after it is seen at apply time.
        let planned = store.firewallRulesGeneration
        let current = try await active.snapshot()
        let batch = try await Self.prepare(
            raw,
            Batch.Context(
                defaults: input.rule, verdict: verdict, now: now, limit: context.limits.maxExpiryMs,
                origin: context.origin.rawValue, single: single, current: current))
        let unchanged = batch.unchanged
        if batch.count == 0 {
            return .unchanged(EntriesOutput(added: [], addedCount: 0, unchanged: unchanged, elements: 0))
        }
        if batch.hasBoxes { try await checkOverlaps(batch, current: current, now: now, field: field) }
        let touches = verdict == "deny" ? try await managementTouched(batch.rules) : []
        let cutsManagement = verdict == "deny" ? try await touchesManagementSubnet(batch.rules) : false
        // Only the first rules' records are made here (for the answer and the diff); the rest are
        // made beside the kernel transaction, which needs only the elements.
        let head = (0..<min(100, batch.count)).map { batch.record($0) }
        var diff = head.prefix(50).map { record in
            Change(
                "add", "rule \(record.id)",
                detail: record.summary + (record.expiresText.map { ", expires \($0)" } ?? ""))
        }
        if batch.count > 50 { diff.append(Change("add", "\(batch.count - 50) more rules")) }
        let added = head.map { RuleSummary(id: $0.id, summary: $0.summary, comment: nil, expiresMs: $0.expiresMs) }
        // Only a guarded (disruptive) change runs its inverse; a 100k batch's would be 100k ids.
        let inverse =
            cutsManagement
            ? CallRequest(
                tool: "firewall.remove", input: ["ids": .array((0..<batch.count).map { .string(batch.id($0)) })])
            : nil
        let transaction = batch.lists.transaction(table: table.name)
        let elementCount = batch.lists.count
        // A big batch's journal entry becomes rows once the call is answered and audited (the
        // audit row would otherwise wait behind it); a failure there is met again, and reported, by
        // the next read of the rules, which writes the entry out first.
        var afterward: (@Sendable () async -> Void)?
        if batch.count >= Self.concurrentBatch { afterward = { [store] in _ = try? await store.settleFirewallRules() } }
        return .change(
            diff, inverse: inverse, touches: touches, disruptive: cutsManagement, afterward: afterward
        ) { [self] in
            try await commit(
                batch, planned: planned, transaction: transaction, head: head, verdict: verdict, context: context)
            return EntriesOutput(added: added, addedCount: batch.count, unchanged: unchanged, elements: elementCount)
        }
    }

    /// `input` or `input.entries[i]`, written only when an error names it.
    static func fieldPath(single: Bool) -> @Sendable (Int) -> String {
        { index in single ? "input" : "input.entries[\(index)]" }
    }

    /// Validates `raw` in order and plans its new rules: records, elements and their kernel
    /// encoding, in one pass per entry. From 10k entries the batch is split across the cores; when a
    /// chunk fails, or two chunks hold the same rule, the batch is planned again in one pass, so
    /// errors, duplicates and the rule named are exactly as in one pass.
    static func prepare(_ raw: RuleItems, _ context: Batch.Context) async throws -> Batch {
        let parts = raw.count < 2 * parallelChunk ? 1 : ProcessInfo.processInfo.activeProcessorCount
        guard parts > 1 else { return try prepare(raw, range: 0..<raw.count, context) }
        let size = (raw.count + parts - 1) / parts
        // The chunks are moved, not copied, into the batch: a copy of the first would be
        // duplicated whole by the first append (copy on write).
        var chunks = await withTaskGroup(of: (Int, Batch?).self) { group in
            for part in 0..<parts {
                let range = (part * size)..<min(raw.count, (part + 1) * size)
                group.addTask { (part, try? prepare(raw, range: range, context)) }
            }
            var results: [(Int, Batch?)] = []
            for await result in group { results.append(result) }
            results.sort { $0.0 < $1.0 }
            return results.compactMap(\.1)
        }
        let disjoint =
            chunks.count == parts
            && chunks.indices.allSatisfy { part in
                chunks[..<part].allSatisfy { earlier in
                    chunks[part].seen.isDisjoint(with: earlier.seen)
                        && chunks[part].exact.keys.allSatisfy { earlier.exact[$0] == nil }
                }
            }
        guard disjoint else { return try prepare(raw, range: 0..<raw.count, context) }
        var batch = chunks.removeFirst()
        while !chunks.isEmpty { batch.append(chunks.removeFirst()) }
        return batch
    }

    /// One pass over `raw[range]`: stops at the first error.
    static func prepare(_ raw: RuleItems, range: Range<Int>, _ context: Batch.Context) throws -> Batch {
        let (defaults, verdict, now, current) = (context.defaults, context.verdict, context.now, context.current)
        let field = fieldPath(single: context.single)
        var batch = Batch(context)
        batch.rules.reserveCapacity(range.count)
        batch.terms.reserveCapacity(range.count)
        batch.elements.reserveCapacity(range.count)
        batch.indices.reserveCapacity(range.count)
        batch.exact.reserveCapacity(range.count)
        var expiries: [String: Int64] = [:]
        for index in range {
            let item = try raw.rule(index, field: field(index))
            if item.isEmpty && verdict == "allow" {
                throw AiosError(
                    .invalidInput,
                    "an allow rule needs at least a port, source, destination, interface or protocol",
                    location: InputLocation(field: field(index)))
            }
            let (rule, elements) = try EntryRule.planned(item, verdict: verdict, field: field(index))
            let expiresText = item.expires ?? defaults.expires
            var expiresMs: Int64?
            if let expiresText {
                if let known = expiries[expiresText] {
                    expiresMs = known
                } else {
                    let absolute = try Expiry.absolute(
                        expiresText, now: now, limit: context.limit, field: "\(field(index)).expires")
                    expiries[expiresText] = absolute
                    expiresMs = absolute
                }
            }
            // A rule of exact elements only is known by its first: the same rule again in the
            // batch finds it, and a rule in force holds it (an int key, not the rule's strings).
            let position = batch.count
            let first = elements.allSatisfy(\.shape.isExact) ? elements[0].exactKey : nil
            if let first, let other = batch.exact[first], batch.rules[other] == rule { continue }
            let inForce = first.map { current.exact[$0] != nil } ?? true
            if first == nil || inForce {
                guard batch.seen.insert(rule).inserted else { continue }
            }
            if inForce, !current.byKey.isEmpty, let existing = current.byKey[rule].flatMap({ current.byID[$0] }),
                existing.expiresMs.map({ $0 > now }) ?? true
            {
                guard existing.expiresText == expiresText else {
                    throw AiosError(
                        .invalidInput,
                        "rule \(existing.id) (\(existing.summary)) already exists with expiry \(existing.expiresText ?? "never"); remove it first to change its expiry",
                        location: InputLocation(field: "\(field(index)).expires"))
                }
                batch.unchanged.append(existing.id)
                continue
            }
            for element in elements {
                guard let exact = element.exactKey else { continue }
                if let other = batch.exact[exact], other != position {
                    throw Self.shared(field(batch.indices[other]), field: field(index))
                }
                if !current.exact.isEmpty, let owner = current.exact[exact], let existing = current.byID[owner],
                    existing.expiresMs.map({ $0 > now }) ?? true
                {
                    throw Self.shared("rule \(existing.id) (\(existing.summary))", field: field(index))
                }
                batch.exact[exact] = position
            }
            batch.rules.append(rule)
            batch.terms.append(
                Batch.Terms(expiresMs: expiresMs, expiresText: expiresText, comment: item.comment ?? defaults.comment))
            batch.lists.add(elements, expiresMs: expiresMs)
            batch.hasBoxes = batch.hasBoxes || elements.contains { !$0.shape.isExact }
            batch.elements.append(elements)
            batch.indices.append(index)
        }
        return batch
    }

    /// Below twice this many entries a batch is planned in one pass.
    static let parallelChunk = 5000

    /// From this many rules a batch persists them beside the kernel transaction (under a marker).
    static let concurrentBatch = 1000

    /// Settings key prefix of the markers of batches being applied.
    static let pendingPrefix = "firewall.pending_batch."

    static func pendingKey(_ firstID: String) -> String { pendingPrefix + firstID }

    /// A transaction adding stored rules' elements, each with its remaining lifetime.
    /// - Parameter roundDown: restore whole seconds rounded down, so a restore never extends a lifetime.
    static func addElements(
        _ rules: [(FirewallRuleRecord, EntryRule)], table: String, now: Int64, roundDown: Bool = false
    ) -> NftablesElementTransaction {
        var lists = ElementLists(now: now, roundDown: roundDown)
        for (record, rule) in rules { lists.add(rule.elements, expiresMs: record.expiresMs) }
        return lists.transaction(table: table)
    }

    /// A transaction deleting the elements of `rules`.
    static func deleteElements(_ rules: some Sequence<[Element]>, table: String) -> NftablesElementTransaction {
        var lists = ElementLists.deleting()
        for elements in rules { lists.add(elements, expiresMs: nil) }
        return lists.transaction(table: table)
    }
}
