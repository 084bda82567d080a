public import AiosCore
import AiosLinux
import AiosStore

/// `firewall.reconcile`: after a reboot (aios-net's table is gone) put back the default ruleset
/// from the stored intent and every unexpired rule with its **remaining** lifetime (the ruleset,
/// then the elements; a failure of the second takes the first out again). When the table exists it changes nothing (but re-adding an interrupted batch's
/// elements), so a daemon restart never resets or extends a timer. The daemon runs it at start
/// with origin `boot`.
///
/// With `entries: true` and the table present it also repairs the entry sets: elements a rule in
/// force should have and the kernel lacks are added back with their remaining lifetime, elements
/// no stored rule writes are deleted, and the elements already right are not touched.
public struct ReconcileTool: Tool {
    /// `entries: true`: also make the entry sets match the rules in force.
    public struct Input: Decodable, Sendable {
        public var entries: Bool?
        /// Only take out what cannot be restored or listed (`Quarantine`); nothing else.
        public var quarantine: Bool?
    }

    /// What was restored or repaired.
    public struct Output: Codable, Sendable {
        public var restored: Bool
        public var rules: Int
        /// Elements added back to the entry sets (with `entries: true`).
        public var elementsAdded: Int = 0
        /// Elements no stored rule writes, deleted (with `entries: true`).
        public var elementsDeleted: Int = 0
        /// Stored rules refused and taken out of force (`Quarantine`): id, summary and why.
        public var quarantined: [Quarantined] = []

        /// One quarantined rule.
        public struct Quarantined: Codable, Sendable, Equatable {
            public var id: String
            public var summary: String
            public var reason: String
        }

        enum CodingKeys: String, CodingKey {
            case restored, rules, quarantined
            case elementsAdded = "elements_added", elementsDeleted = "elements_deleted"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.reconcile",
        summary:
            "Restore aios-net's firewall table after a reboot from the stored intent and rules (remaining lifetimes only); entries: true also repairs the entry sets' elements",
        effect: .change,
        inputSchema: .object(
            [
                "entries": .boolean(
                    "Also add back the elements rules in force lack and delete those no rule writes (reads the sets whole)"
                ),
                "quarantine": .boolean(
                    "Only quarantine stored rules the current validation refuses and delete entry elements libnftables cannot list (the daemon's first step at start)"
                ),
            ], examples: [[:], ["entries": true], ["quarantine": true]]))

    let table: FirewallTable
    let store: Store
    let active: ActiveRules

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        guard
            let intent: ManagementIntent = try await store.setting(ManagementIntent.settingKey).map({ try $0.decode() })
        else {
            return .unchanged(Output(restored: false, rules: 0))
        }
        let now = context.clock.nowMs()
        // Over nfnetlink, before anything lists the table through libnftables: an element it
        // cannot list would end the process.
        let exists = try table.exists()
        // The quick check (before the daemon serves) reads only the rules with an interface:
        // those alone can make an element libnftables cannot list. The full one reads all.
        let candidates =
            input.quarantine == true
            ? try await store.activeFirewallRulesWithInterface() : try await store.activeFirewallRules()
        let quarantine = try Quarantine.find(candidates, table: table, tableExists: exists)
        let rest: ToolPlan<Output> =
            input.quarantine == true
            ? .unchanged(Output(restored: false, rules: 0))
            : try await plan(
                input, intent: intent, exists: exists, excluding: Set(quarantine.rules.map(\.id)), now: now, context)
        guard !quarantine.isEmpty else { return rest }
        var diff = quarantine.rules.map {
            Change("remove", "rule \($0.id)", detail: "quarantined, not restored: \($0.reason)")
        }
        if !quarantine.elements.isEmpty {
            diff.append(
                Change(
                    "remove", "\(quarantine.elements.count) entry elements",
                    detail: "an empty interface name, which libnftables cannot list"))
        }
        return .change(diff + rest.diff, inverse: rest.inverse) { [table, store, clock = context.clock] in
            try quarantine.purge(table: table)
            try await quarantine.record(in: store, now: clock.nowMs())
            var output = rest.changes ? try await rest.apply() : Output(restored: false, rules: 0)
            output.quarantined = quarantine.rules
            return output
        }
    }

    /// The plan once `quarantined` rules are left out: a restore after a reboot, the entry
    /// repair, or re-adding interrupted batches.
    private func plan(
        _ input: Input, intent: ManagementIntent, exists: Bool, excluding quarantined: Set<String>, now: Int64,
        _ context: ToolContext
    ) async throws -> ToolPlan<Output> {
        guard !exists else {
            // Read under the entry lock: a batch being applied holds it until its marker is gone,
            // so the markers found are those of batches a crash interrupted.
            let pending = try await active.changes.withLock {
                try await store.settings(prefix: EntryPlanner.pendingPrefix)
            }
            if input.entries == true { return try await repairEntries(pending, now: now, clock: context.clock) }
            return try await interrupted(pending, now: now, excluding: quarantined)
        }
        let pending = try await store.settings(prefix: EntryPlanner.pendingPrefix)
        // A little margin: an element about to expire is not worth restoring for a few milliseconds.
        let rules = try await store.activeFirewallRules(unexpiredAt: now + 1000).filter {
            !quarantined.contains($0.id)
        }
        let ruleset = DefaultRuleset(
            table: table.name, managementV4: intent.v4, managementV6: intent.v6, managementPorts: intent.ports,
            sandboxBridges: try await store.sandboxes().map(\.bridge))
        let pairs = try rules.map { ($0, try EntryRule(specText: $0.specText)) }
        let commands = ruleset.commands()
        let elements = EntryPlanner.addElements(pairs, table: table.name, now: now, roundDown: true)
        let diff = [
            Change(
                "add", "table inet \(table.name)",
                detail: "restored: default ruleset for \(intent.subnets.joined(separator: ", "))"),
            Change("add", "\(rules.count) rules", detail: "with their remaining lifetimes"),
        ]
        return .change(diff, inverse: CallRequest(tool: RestoreTool.descriptor.name, input: [:])) { [table, store] in
            // The ruleset through libnftables, then the elements over nfnetlink. If the elements
            // fail, the table goes again: as before the call (one transaction would have left
            // none), and the next start restores the whole again.
            try table.apply(commands, what: "cannot restore the firewall table")
            var refused: [Quarantine.Rule] = []
            do {
                try table.apply(elements, what: "cannot restore the rules' elements")
            } catch {
                // The kernel refused the whole: each rule alone finds the ones it refuses, which
                // are quarantined; the others go in. When none alone fails, the table goes again.
                refused = Self.refusedAlone(pairs, table: table, now: now)
                guard !refused.isEmpty else {
                    try? table.apply(table.restoreCommands(nil), what: "undo the restored table")
                    throw error
                }
                try await Quarantine(rules: refused).record(in: store, now: now)
            }
            for marker in pending { try await store.removeSetting(marker.key) }
            var output = Output(restored: true, rules: rules.count - refused.count)
            output.quarantined = refused
            return output
        }
    }

    /// Adds each rule's elements on its own (after the kernel refused them all at once) and
    /// returns the rules it refused, with its reason.
    private static func refusedAlone(
        _ pairs: [(FirewallRuleRecord, EntryRule)], table: FirewallTable, now: Int64
    ) -> [Quarantine.Rule] {
        var refused: [Quarantine.Rule] = []
        for pair in pairs {
            do {
                try table.apply(
                    EntryPlanner.addElements([pair], table: table.name, now: now, roundDown: true),
                    what: "the kernel refuses its elements")
            } catch {
                refused.append(Quarantine.Rule(id: pair.0.id, summary: pair.0.summary, reason: "\(error)"))
            }
        }
        return refused
    }

    /// The table exists and the entry sets are to match the rules in force: one transaction adds
    /// what is missing (an interrupted batch's elements among them) and deletes what no rule writes.
    private func repairEntries(_ pending: [(key: String, value: JSONValue)], now: Int64, clock: any Clock)
        async throws -> ToolPlan<Output>
    {
        let comparison = try await EntryComparison.locked(active, table, now: now)
        let rules = Set(comparison.missing.map(\.record.id)).count
        let output = Output(
            restored: false, rules: rules, elementsAdded: comparison.missing.count,
            elementsDeleted: comparison.unknown.count)
        guard !comparison.missing.isEmpty || !comparison.unknown.isEmpty else {
            if !pending.isEmpty {
                return .change([
                    Change("remove", "\(pending.count) batch marker(s)", detail: "their elements are all in the kernel")
                ]) { [store, active] in
                    try await active.changes.withLock {
                        try await Self.clearMarkers(store)
                        return output
                    }
                }
            }
            return .unchanged(output)
        }
        var diff: [Change] = []
        if !comparison.missing.isEmpty {
            diff.append(
                Change(
                    "add", "\(comparison.missing.count) elements of \(rules) rules",
                    detail: "missing from the kernel; added back with their remaining lifetimes"))
        }
        for item in comparison.unknown.prefix(EntryDrift.named) {
            diff.append(
                Change(
                    "remove", "element \(item.key.value.jsonText) from \(EntrySets.all[item.key.set].name)",
                    detail: "no stored rule writes it"))
        }
        if comparison.unknown.count > EntryDrift.named {
            diff.append(Change("remove", "\(comparison.unknown.count - EntryDrift.named) more unknown elements"))
        }
        return .change(diff) { [self, table, store] in
            // Compared again under the entry lock: a change applied since the plan is neither undone
            // (its elements taken for unknown ones) nor missed.
            try await active.changes.withLock {
                let now = clock.nowMs()
                let current = try await EntryComparison.unlocked(active, table, now: now)
                if !current.missing.isEmpty || !current.unknown.isEmpty {
                    try table.apply(
                        current.repairTransaction(table: table.name, now: now), what: "cannot repair the entry sets")
                }
                // Their elements were among the missing ones, now added.
                try await Self.clearMarkers(store)
                return Output(
                    restored: false, rules: Set(current.missing.map(\.record.id)).count,
                    elementsAdded: current.missing.count, elementsDeleted: current.unknown.count)
            }
        }
    }

    /// Removes the markers of interrupted batches (the caller holds the entry lock, so no batch
    /// is being applied and every marker left is an interrupted one).
    private static func clearMarkers(_ store: Store) async throws {
        for marker in try await store.settings(prefix: EntryPlanner.pendingPrefix) {
            try await store.removeSetting(marker.key)
        }
    }

    /// The table exists: a batch whose marker is still there was interrupted (the daemon died
    /// between persisting its rules and the kernel taking them, or before knowing both had). Its
    /// stored rules' elements are added again — re-adding an element the kernel has keeps its
    /// timer, and the timeout written is the remaining lifetime rounded down, so nothing is
    /// extended. Without markers nothing is touched, so a restart never resets a timer.
    private func interrupted(
        _ pending: [(key: String, value: JSONValue)], now: Int64, excluding quarantined: Set<String>
    ) async throws -> ToolPlan<Output> {
        guard !pending.isEmpty else { return .unchanged(Output(restored: false, rules: 0)) }
        var found: [FirewallRuleRecord] = []
        for marker in pending {
            guard let created = marker.value["created_ms"]?.intValue else { continue }
            found += try await store.activeFirewallRules(createdAt: Int64(created)).filter {
                ($0.expiresMs ?? .max) > now + 1000 && !quarantined.contains($0.id)
            }
        }
        let rules = found
        let pairs = try rules.map { ($0, try EntryRule(specText: $0.specText)) }
        let elements = EntryPlanner.addElements(pairs, table: table.name, now: now, roundDown: true)
        let diff = [
            Change("add", "\(rules.count) rules", detail: "re-added from \(pending.count) interrupted batch(es)")
        ]
        return .change(diff) { [table, store, active] in
            try await active.changes.withLock {
                if !elements.isEmpty {
                    try table.apply(elements, what: "cannot re-add an interrupted batch")
                }
                try await Self.clearMarkers(store)
                return Output(restored: false, rules: rules.count)
            }
        }
    }
}
