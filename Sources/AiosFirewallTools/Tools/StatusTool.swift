public import AiosCore
import AiosStore

/// `firewall.status`: is aios-net's table there, does it drift from the stored intent, what was dropped.
public struct StatusTool: Tool {
    /// `entries: true` also compares every entry set's elements with the rules in force.
    public struct Input: Decodable, Sendable {
        public var entries: Bool?
    }

    /// The table's state.
    public struct Output: Codable, Sendable {
        public var table: String
        public var present: Bool
        /// True when the table differs from what `apply_default` last made true.
        public var drift: Bool
        /// Default rules that are missing (deleted by someone, or never applied).
        public var missingRules: [String]
        /// Rules in the table that the default ruleset does not know.
        public var otherRules: Int
        public var chains: [Chain]
        /// Management access in force.
        public var managementSubnets: [String]
        public var managementPorts: [Int]
        /// Management access last applied (the stored intent), if any.
        public var intendedSubnets: [String]?
        /// Packets dropped (and logged) per chain.
        public var drops: [String: Int]
        /// With `entries: true`: how the entry sets differ from the rules in force.
        public var entries: EntryDrift?

        enum CodingKeys: String, CodingKey {
            case table, present, drift, chains, drops, entries
            case missingRules = "missing_rules", otherRules = "other_rules", managementSubnets = "management_subnets"
            case managementPorts = "management_ports", intendedSubnets = "intended_subnets"
        }
    }

    /// One chain.
    public struct Chain: Codable, Sendable {
        public var name: String
        public var policy: String
        public var rules: Int
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.status",
        summary:
            "Show whether aios-net's firewall table is present, its drift from the stored intent, and drop counters; entries: true also checks every rule's set elements",
        effect: .read,
        inputSchema: .object(
            [
                "entries": .boolean(
                    "Also compare every entry set's elements with the rules in force (reads the sets whole: ~0.5 s with 100k rules)"
                )
            ], examples: [[:], ["entries": true]]))

    let table: FirewallTable
    let store: Store
    let active: ActiveRules

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read {
            let intent: ManagementIntent? = try await store.setting(ManagementIntent.settingKey).map { try $0.decode() }
            guard let objects = try table.chainsAndRules() else {
                return Output(
                    table: "inet \(table.name)", present: false, drift: intent != nil, missingRules: [], otherRules: 0,
                    chains: [],
                    managementSubnets: [], managementPorts: [], intendedSubnets: intent?.subnets, drops: [:],
                    entries: nil)
            }
            var entries: EntryDrift?
            if input.entries == true {
                // The sets whole (100k elements): only when asked; under the entry lock, so no
                // change is seen half done.
                entries = try await EntryComparison.locked(active, table, now: context.clock.nowMs()).drift
            }
            var inspection = RulesetInspection(objects)
            // Set contents are omitted from the terse listing; the management sets are small, list them.
            let sets = RulesetInspection(
                try ["mgmt_v4", "mgmt_v6", "mgmt_ports"].flatMap { try table.listSet($0) ?? [] })
            inspection.managementSubnets = sets.managementSubnets
            inspection.managementPorts = sets.managementPorts
            var drift =
                !inspection.missingRules.isEmpty || inspection.policies.values.contains { $0 != "drop" }
                || entries.map { !$0.isClean } ?? false
            if let intent {
                drift =
                    drift || Set(intent.subnets) != Set(inspection.managementSubnets)
                    || Set(intent.ports) != Set(inspection.managementPorts)
            }
            return Output(
                table: "inet \(table.name)", present: true, drift: drift,
                missingRules: inspection.missingRules.sorted(),
                otherRules: inspection.otherRules,
                chains: inspection.policies.keys.sorted().map {
                    Chain(name: $0, policy: inspection.policies[$0] ?? "?", rules: inspection.ruleCounts[$0] ?? 0)
                },
                managementSubnets: inspection.managementSubnets.sorted(),
                managementPorts: inspection.managementPorts.sorted(),
                intendedSubnets: intent?.subnets, drops: inspection.drops, entries: entries)
        }
    }
}
