public import AiosCore
import AiosStore
import Foundation

/// `firewall.remove`: take allow/deny rules out by id (one transaction).
public struct RemoveTool: Tool {
    /// One id or several.
    public struct Input: Decodable, Sendable {
        public var id: String?
        public var ids: [String]?
    }

    /// What was removed.
    public struct Output: Codable, Sendable {
        public var removed: [String]
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.remove", summary: "Remove allow/deny rules by id (as firewall.list shows them)",
        effect: .change,
        inputSchema: .object(
            [
                "id": .string("A rule id", maxLength: 64),
                "ids": .array(of: .string(maxLength: 64), "Several rule ids", minItems: 1),
            ],
            examples: [["id": "3f2a9c1b77aa0e12"], ["ids": ["3f2a9c1b77aa0e12", "0c5d1e2f3a4b5c6d"]]]))

    let table: FirewallTable
    let store: Store
    /// The planner's cache of the rules in force, reloaded after a removal.
    let cache: ActiveRules

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let wanted = (input.ids ?? []) + (input.id.map { [$0] } ?? [])
        guard !wanted.isEmpty else {
            throw AiosError(.invalidInput, "name a rule: id or ids", location: InputLocation(field: "input.id"))
        }
        let now = context.clock.nowMs()
        let inForce = Dictionary(
            try await store.activeFirewallRules(unexpiredAt: now).map { ($0.id, $0) },
            uniquingKeysWith: { first, _ in first })
        var records: [FirewallRuleRecord] = []
        for (index, id) in wanted.enumerated() {
            guard let record = inForce[id] else {
                throw AiosError(
                    .notFound, "no active rule \(id); `aios-net call firewall.list` shows them",
                    location: InputLocation(field: input.ids != nil ? "input.ids[\(index)]" : "input.id"))
            }
            records.append(record)
        }
        let diff = records.map { Change("remove", "rule \($0.id)", detail: $0.summary) }
        let removing = records
        return .change(diff) { [table, store, cache] in
            // Elements that expire meanwhile are gone from the kernel, and deleting a missing element
            // fails the whole batch: leave out those about to expire, retry once without the late ones.
            var live = removing.filter { ($0.expiresMs ?? .max) > context.clock.nowMs() + 2000 }
            do {
                try table.apply(try Self.deletions(live, table: table), what: "cannot remove the rules")
            } catch {
                live = live.filter { ($0.expiresMs ?? .max) > context.clock.nowMs() + 10_000 }
                try table.apply(try Self.deletions(live, table: table), what: "cannot remove the rules")
            }
            try await store.endFirewallRules(ids: removing.map(\.id), state: "removed", endedMs: context.clock.nowMs())
            // The next allow/deny would reload the rules in force (and free the old ones) on its
            // own path: reload them now, after the answer.
            Task { _ = try? await cache.snapshot() }
            return Output(removed: removing.map(\.id))
        }
    }

    private static func deletions(_ records: [FirewallRuleRecord], table: FirewallTable) throws -> [JSONValue] {
        EntryPlanner.deleteCommands(try records.map { try EntryRule(specText: $0.specText) }, table: table.name)
    }
}
