public import AiosCore
import AiosLinux
import AiosStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Input of `firewall.allow` / `firewall.deny`: one rule, or `entries` (a batch).
public struct EntriesInput: Decodable, TreeDecodable, Sendable {
    var rule: RuleInput
    /// A batch's entries as given: each is read as it is planned, in the planner's parallel
    /// chunks (a batch holds up to 100k).
    var entries: [JSONValue]?

    /// Read from the tree directly.
    public init(tree: JSONValue) throws {
        let members = try tree.members(field: "input")
        rule = try RuleInput(members: members, field: "input")
        if let list = members["entries"] { entries = try list.elements(field: "input.entries") }
    }

    /// The rules to plan: the one rule, or the entries.
    var items: RuleItems { entries.map { .entries($0) } ?? .single(rule) }

    /// Decodable through the same reading as `init(tree:)`.
    public init(from decoder: any Decoder) throws { try self.init(tree: JSONValue(from: decoder)) }

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
        ) { [table, store, active] in
            try await active.changes.withLock {
                // Another change committed since this batch was planned: what the kernel would not
                // refuse (the same rule twice, two rules on one hash-set element) is checked again
                // against the rules in force now.
                if store.firewallRulesGeneration != planned,
                    let conflict = Self.conflict(batch, with: try await active.snapshot(), now: context.clock.nowMs())
                {
                    throw conflict
                }
                let before = store.firewallRulesGeneration
                let kernel = {
                    do {
                        try table.apply(transaction, what: "cannot add the \(verdict) rules")
                    } catch let error as AiosError where (error.cause as? NetlinkError)?.errno == ENOENT {
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
                    _ = try? table.apply(
                        Self.deleteElements(batch.elements, table: table.name), what: "compensate")
                }
                // The rows are written from the batch as bytes (`FirewallRowSource`); the records
                // (Strings) the cache keeps are made after the answer.
                if batch.count < Self.concurrentBatch {
                    try kernel()
                    do {
                        try await store.insertFirewallRules(batch)
                    } catch {
                        compensate()
                        throw error
                    }
                } else {
                    // A big batch persists its rules while the kernel takes its elements, as one
                    // journal entry (`journalFirewallRules`): a row per rule would cost more than
                    // the kernel step; the entry becomes rows right
                    // after the answer, and any read of the rules before that writes it out first.
                    // A marker, committed with the entry, names the batch: if the daemon dies with
                    // the rules committed but the kernel transaction not, the boot reconcile
                    // re-adds that batch's elements (see ReconcileTool). Dying after the kernel
                    // transaction but before the rules commit (here, or between the two steps of a
                    // small batch) leaves elements no rule writes: the next start, finding that
                    // the run did not stop cleanly, reconciles the entry sets and deletes them.
                    let marker = Self.pendingKey(head[0].id)
                    async let stored: Void = store.journalFirewallRules(
                        batch, marker: (marker, ["created_ms": .number(Double(now))]))
                    var kernelError: (any Error)?
                    do { try kernel() } catch { kernelError = error }
                    var storeError: (any Error)?
                    do { try await stored } catch { storeError = error }
                    if kernelError == nil, storeError != nil { compensate() }
                    if kernelError != nil, storeError == nil {
                        let ids = (0..<batch.count).map(batch.id)
                        _ = try? await store.endFirewallRules(ids: ids, state: "removed", endedMs: now)
                    }
                    if let error = kernelError ?? storeError {
                        try? await store.removeSetting(marker)
                        throw error
                    }
                    try await store.removeSetting(marker)
                }
                // The cache catches up after the answer (100k records to make and index): a call that
                // plans before it does sees the generation moved and reloads, so nothing stale is served.
                let after = store.firewallRulesGeneration
                Task {
                    await active.inserted(
                        batch.records(head: head), rules: batch.rules, elements: batch.elements, before: before,
                        after: after)
                }
                return EntriesOutput(
                    added: added, addedCount: batch.count, unchanged: unchanged, elements: elementCount)
            }
        }
    }

    /// A batch, planned: its new rules with everything their apply and the cache need, made in
    /// the one pass that validates the entries. Their store records (id, spec text, summary) are
    /// made later (`record(_:)`, `records(head:)`): the kernel transaction does not wait for them.
    struct Batch: Sendable, FirewallRowSource {
        /// What every chunk of a batch is planned against.
        struct Context: Sendable {
            var defaults: RuleInput
            var verdict: String
            var now: Int64
            var limit: Int64?
            var origin: String
            var single: Bool
            var current: ActiveRules.Snapshot
        }

        /// A new rule's lifetime and comment.
        struct Terms: Sendable {
            var expiresMs: Int64?
            var expiresText: String?
            var comment: String?
        }

        /// The new rules, normalised (also their identity in the cache); runs of chunks.
        var rules = Runs<EntryRule>()
        var terms = Runs<Terms>()
        var elements = Runs<[Element]>()
        /// The input index of each new rule (an error names its field).
        var indices = Runs<Int>()
        /// Ids of rules in force unchanged.
        var unchanged: [String] = []
        /// The new rules that are not known by an exact element, and those found unchanged.
        var seen: Set<EntryRule> = []
        /// The new rules' exact elements → the position of the rule that writes each.
        var exact: [ExactKey: Int] = [:]
        /// The new rules' elements in the kernel's encoding.
        var lists: ElementLists
        /// Whether some element is a box (only boxes can overlap).
        var hasBoxes = false
        var verdict: String
        var origin: String
        var now: Int64
        /// The new rules' ids: consecutive, from a random start.
        var ids = RuleIDs()

        init(_ context: Context) {
            lists = ElementLists(now: context.now)
            verdict = context.verdict
            origin = context.origin
            now = context.now
        }

        /// New rules.
        var count: Int { rules.count }

        /// The id of the new rule at `position`.
        func id(_ position: Int) -> String { ids.id(position) }

        /// The store record of the new rule at `position`.
        func record(_ position: Int) -> FirewallRuleRecord {
            let (rule, terms) = (rules[position], terms[position])
            return FirewallRuleRecord(
                id: id(position), verdict: verdict, specText: rule.specText,
                summary: rule.summary(comment: terms.comment), origin: origin, createdMs: now,
                expiresMs: terms.expiresMs, expiresText: terms.expiresText)
        }

        /// Writes the row of the new rule at `position` (the store's `FirewallRowSource`).
        func write(_ position: Int, into row: inout FirewallRowBytes) {
            ids.writeID(position, into: &row.id)
            let (rule, terms) = (rules[position], terms[position])
            row.verdict = verdict
            rule.writeSpec(into: &row.spec)
            rule.writeSummary(comment: terms.comment, into: &row.summary)
            row.origin = origin
            row.createdMs = now
            row.expiresMs = terms.expiresMs
            row.expiresText = terms.expiresText
        }

        /// Every new rule's record; `head` holds the first ones, made already.
        func records(head: [FirewallRuleRecord]) -> [FirewallRuleRecord] {
            var records = head
            records.reserveCapacity(count)
            for position in head.count..<count { records.append(record(position)) }
            return records
        }

        /// Appends a later chunk's rules (`other` shares no rule with these).
        mutating func append(_ other: Batch) {
            rules.append(runs: other.rules)
            terms.append(runs: other.terms)
            elements.append(runs: other.elements)
            indices.append(runs: other.indices)
            unchanged += other.unchanged
            lists.append(other.lists)
            hasBoxes = hasBoxes || other.hasBoxes
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

    /// Refuses elements the kernel would refuse: against the rules in force (their index is
    /// cached per store generation) and within the batch.
    private func checkOverlaps(_ batch: Batch, current: ActiveRules.Snapshot, now: Int64, field: (Int) -> String)
        async throws
    {
        var current = current
        var fields: [String: String] = [:]
        var entries: [OverlapIndex.Entry] = []
        for position in 0..<batch.count {
            let id = batch.id(position)
            let indexed = ActiveRules.indexed(batch.elements[position], owner: id)
            guard !indexed.isEmpty else { continue }
            fields[id] = field(batch.indices[position])
            entries += indexed
        }
        // Only boxes can overlap (exact elements are neither indexed nor checked).
        guard !entries.isEmpty else { return }
        let index = OverlapIndex(entries)
        var exact = false
        for position in 0..<batch.count {
            let id = batch.id(position)
            let here = field(batch.indices[position])
            for element in batch.elements[position] where !element.shape.isExact {
                if let other = index.conflict(for: element, owner: id) {
                    throw Self.overlap(fields[other] ?? other, field: here)
                }
                guard let other = current.conflict(for: element, owner: id),
                    let existing = current.byID[other]
                else { continue }
                if existing.expiresMs.map({ $0 > now }) ?? true {
                    throw Self.overlap("rule \(existing.id) (\(existing.summary))", field: here)
                }
                // The rule in the way has expired but is not ended yet: judge against the live
                // rules only (rare, so rebuilt here rather than cached).
                if !exact {
                    let live = try await store.activeFirewallRules(unexpiredAt: now)
                    current = ActiveRules.build(live).0
                    exact = true
                    if let again = current.conflict(for: element, owner: id),
                        let existing = current.byID[again]
                    {
                        throw Self.overlap("rule \(existing.id) (\(existing.summary))", field: here)
                    }
                }
            }
        }
    }

    /// A change committed between this batch's plan and its apply, seen in the rules in force
    /// (`current`, live at `now`): a rule the batch reported unchanged is gone, a new rule of the
    /// batch is in force already, or a rule in force holds one of its hash-set elements. Nil when
    /// there is none.
    static func conflict(_ batch: Batch, with current: ActiveRules.Snapshot, now: Int64) -> AiosError? {
        func live(_ id: String) -> FirewallRuleRecord? {
            current.byID[id].flatMap { record in (record.expiresMs.map { $0 > now } ?? true) ? record : nil }
        }
        // A rule this batch found in force (and reports unchanged) that was removed meanwhile.
        if let gone = batch.unchanged.first(where: { live($0) == nil }) {
            return AiosError(
                .failed,
                "rule \(gone), found in force when this call was planned, was removed or expired meanwhile; nothing was changed: run the call again"
            )
        }
        for position in 0..<batch.count {
            if let id = current.byKey[batch.rules[position]], let existing = live(id) {
                return AiosError(
                    .failed,
                    "rule \(existing.id) (\(existing.summary)) was added while this call was being planned; nothing was changed: run the call again (that rule will be reported unchanged)"
                )
            }
            for element in batch.elements[position] {
                guard let key = element.exactKey, let owner = current.exact[key], let existing = live(owner) else {
                    continue
                }
                return AiosError(
                    .failed,
                    "rule \(existing.id) (\(existing.summary)) was added while this call was being planned and writes the same set element; nothing was changed: run the call again"
                )
            }
        }
        return nil
    }

    /// Two rules writing one hash-set element would share it and its timer (removing or expiring
    /// one would end the other's), so the second is refused.
    static func shared(_ other: String, field: String) -> AiosError {
        AiosError(
            .invalidInput,
            "writes the same set element as \(other) (same host, protocol and port): that rule already covers it; remove it first or leave this one out",
            location: InputLocation(field: field))
    }

    private static func overlap(_ other: String, field: String) -> AiosError {
        AiosError(
            .invalidInput,
            "overlaps \(other): an nftables interval set cannot hold a range that starts or ends inside another, and a set element both rules wrote would go with either's removal; remove that rule or make this one disjoint",
            location: InputLocation(field: field))
    }

    /// True when a deny matches traffic from or to a management subnet (any port): it can cut the
    /// operators' path, so it is disruptive and runs under the guard.
    private func touchesManagementSubnet(_ rules: Runs<EntryRule>) async throws -> Bool {
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

    private func managementTouched(_ rules: Runs<EntryRule>) async throws -> [ProtectedItem] {
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

/// Rule ids: 16 hex digits (64 bits; 32-bit ones collided at batch scale). Each batch draws one
/// random start and numbers its rules from there, so its ids are consecutive: the store's
/// primary-key index then takes a 100k batch as one run of neighbouring keys instead of 100k
/// scattered ones (random ids made the insert several times slower than the kernel transaction
/// beside it).
/// Two batches collide only if their ranges meet in 2^64 — and the primary key refuses that.
struct RuleIDs: Sendable {
    let start: UInt64

    init() {
        var start: UInt64 = 0
        withUnsafeMutableBytes(of: &start) { arc4random_buf($0.baseAddress!, $0.count) }
        self.start = start
    }

    /// The id at `position` from the start.
    func id(_ position: Int) -> String {
        let id = start &+ UInt64(position)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for position in 0..<16 { buffer[position] = Self.digit(id, position) }
            return 16
        }
    }

    /// `id(position)`'s text, appended to `text`.
    func writeID(_ position: Int, into text: inout [UInt8]) {
        let id = start &+ UInt64(position)
        for digit in 0..<16 { text.append(Self.digit(id, digit)) }
    }

    /// The hex digit at `position` (0 = most significant) of `id`.
    private static func digit(_ id: UInt64, _ position: Int) -> UInt8 {
        let digit = UInt8(truncatingIfNeeded: id >> (60 - 4 * position) & 15)
        return digit < 10 ? 0x30 + digit : 0x57 + digit
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
