import AiosCore
import AiosStore

/// The active entry rules, read and decoded once per store generation: planning a call while 100k
/// rules are in force neither reloads nor re-decodes them, and their overlap index is built once.
/// The planner's own inserts extend the cache instead of invalidating it.
actor ActiveRules {
    /// The active rules (expired ones included until the reporter ends them; callers filter by time).
    struct Snapshot: Sendable {
        /// Rule (its normalised form is its identity) → id (the record lives once, in `byID`).
        var byKey: [EntryRule: String] = [:]
        var byID: [String: FirewallRuleRecord] = [:]
        /// Id → its rule, decoded (what `firewall.remove` deletes).
        var rules: [String: EntryRule] = [:]
        var index = OverlapIndex([])
        /// The elements added since `index` was built (small; checked beside it).
        var recent = OverlapIndex([])
        /// Exact (hash set) elements in force → the rule that wrote them.
        var exact: [ExactKey: String] = [:]

        /// The owner of an element in force that `element` would overlap.
        func conflict(for element: Element, owner: String) -> String? {
            index.conflict(for: element, owner: owner) ?? recent.conflict(for: element, owner: owner)
        }
    }

    private struct Cached {
        var generation: UInt64
        var snapshot: Snapshot
        var entries: [OverlapIndex.Entry]
        /// Entries added since the base index was built.
        var recent: [OverlapIndex.Entry] = []
        /// The indexes lag the entries (rebuilt on the next read).
        var stale = false
    }

    private let store: Store
    private var cached: Cached?

    /// Held by every change to the entry sets from its kernel transaction to its rows (allow,
    /// deny, remove, the entry repair) and by the entry check: one of them never sees another
    /// half done (elements in the kernel whose rows are not committed yet, or the reverse).
    nonisolated let changes = AsyncLock()

    init(store: Store) { self.store = store }

    /// The current rules; reloaded when the store's firewall generation moved.
    func snapshot() async throws -> Snapshot {
        let generation = store.firewallRulesGeneration
        if let current = cached, current.generation == generation, !current.stale { return current.snapshot }
        // Checked before taking it: a cache taken and then dropped here would free 100k rules on
        // the caller's path.
        if cached?.generation == generation, var current = cached.take() {
            // Stale: a small tail is indexed on its own; a large one folds into the base.
            if current.recent.count > max(1000, current.entries.count / 10) {
                current.snapshot.index = OverlapIndex(current.entries)
                current.recent = []
            }
            current.snapshot.recent = OverlapIndex(current.recent)
            current.stale = false
            cached = current
            return current.snapshot
        }
        // The old cache can hold 100k rules: freeing them takes longer than reading a small new
        // one, so it is let go off the caller's path.
        if let old = cached.take() { OwnedTasks.shared.run(priority: .background) { withExtendedLifetime(old) {} } }
        let records = try await store.activeFirewallRules()
        let (snapshot, entries) = Self.build(records)
        cached = Cached(generation: generation, snapshot: snapshot, entries: entries)
        return snapshot
    }

    /// Records this planner inserted, moving the generation from `before` to `after`: when
    /// nothing else wrote in between, they join the cache.
    func inserted(
        _ records: [FirewallRuleRecord], rules: Runs<EntryRule>, elements: Runs<[Element]>, before: UInt64,
        after: UInt64
    ) {
        // Moved out of `cached` before changing it: a copy would duplicate 100k rules per insert.
        // On a mismatch the cache stays for the next read to replace (and free off its path).
        guard cached?.generation == before, after == before + 1, var current = cached.take() else { return }
        current.snapshot.byKey.reserveCapacity(current.snapshot.byKey.count + records.count)
        current.snapshot.byID.reserveCapacity(current.snapshot.byID.count + records.count)
        current.snapshot.rules.reserveCapacity(current.snapshot.rules.count + records.count)
        current.snapshot.exact.reserveCapacity(current.snapshot.exact.count + records.count)
        current.entries.reserveCapacity(current.entries.count + records.count)
        for ((record, rule), elements) in zip(zip(records, rules), elements) {
            if current.snapshot.byKey[rule] == nil { current.snapshot.byKey[rule] = record.id }
            current.snapshot.byID[record.id] = record
            current.snapshot.rules[record.id] = rule
            Self.holdExact(elements, owner: record.id, in: &current.snapshot.exact)
            let added = Self.indexed(elements, owner: record.id)
            current.entries += added
            current.recent += added
        }
        current.generation = after
        current.stale = true
        cached = current
    }

    /// Notes `owner` as the writer of its exact elements (the first writer stays).
    static func holdExact(_ elements: [Element], owner: String, in exact: inout [ExactKey: String]) {
        for element in elements {
            guard let key = element.exactKey, exact[key] == nil else { continue }
            exact[key] = owner
        }
    }

    /// The elements that can overlap (interval sets' boxes), as index entries.
    static func indexed(_ elements: [Element], owner: String) -> [OverlapIndex.Entry] {
        elements.compactMap { $0.shape.isExact ? nil : OverlapIndex.Entry(element: $0, owner: owner) }
    }

    /// A snapshot of exactly `records`, and the elements behind its index.
    static func build(_ records: [FirewallRuleRecord]) -> (Snapshot, [OverlapIndex.Entry]) {
        var snapshot = Snapshot()
        var entries: [OverlapIndex.Entry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            snapshot.byID[record.id] = record
            // A rule no call could write now (`Quarantine` takes it out at start) writes nothing.
            guard let rule = try? EntryRule(specText: record.specText),
                rule.interface.flatMap(EntryRule.interfaceProblem) == nil
            else { continue }
            snapshot.rules[record.id] = rule
            if snapshot.byKey[rule] == nil { snapshot.byKey[rule] = record.id }
            let elements = rule.elements
            holdExact(elements, owner: record.id, in: &snapshot.exact)
            entries += Self.indexed(elements, owner: record.id)
        }
        snapshot.index = OverlapIndex(entries)
        return (snapshot, entries)
    }
}
