public import AiosCore
import AiosLinux
import AiosStore
import Foundation

/// `firewall.remove`: take allow/deny rules out by id (one transaction).
public struct RemoveTool: Tool {
    /// One id or several.
    public struct Input: Decodable, TreeDecodable, Sendable {
        public var id: String?
        public var ids: [String]?

        /// Read from the tree directly (a 100k removal's ids, without a Decoder per string).
        public init(tree: JSONValue) throws {
            let members = try tree.members(field: "input")
            id = try members["id"].map { try $0.string(field: "input.id") }
            ids = try members["ids"].map { list in
                try list.elements(field: "input.ids").enumerated().map { index, id in
                    try id.string(field: "input.ids[\(index)]")
                }
            }
        }

        /// Decodable through the same reading as `init(tree:)`.
        public init(from decoder: any Decoder) throws { try self.init(tree: JSONValue(from: decoder)) }
    }

    /// What was removed.
    public struct Output: Codable, Sendable {
        /// The ids removed (the first 100).
        public var removed: [String]
        /// How many rules were removed in all.
        public var removedCount: Int

        enum CodingKeys: String, CodingKey {
            case removed
            case removedCount = "removed_count"
        }
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
        // Taken before the snapshot: a change committed after it is seen at apply time.
        let planned = store.firewallRulesGeneration
        // The rules in force are cached with their decoded rules (a 100k batch is neither read
        // from the store nor decoded again to be removed).
        let current = try await cache.snapshot()
        var records: [FirewallRuleRecord] = []
        var rules: [EntryRule] = []
        records.reserveCapacity(wanted.count)
        rules.reserveCapacity(wanted.count)
        var seen = Set<String>(minimumCapacity: wanted.count)
        // The field is named only for an error: a 100k removal makes no string per id.
        func field(_ index: Int) -> InputLocation {
            InputLocation(field: input.ids != nil ? "input.ids[\(index)]" : "input.id")
        }
        for (index, id) in wanted.enumerated() {
            guard seen.insert(id).inserted else { continue }
            guard let record = current.byID[id], (record.expiresMs ?? .max) > now else {
                throw AiosError(
                    .notFound, "no active rule \(id); `aios-net call firewall.list` shows them", location: field(index))
            }
            guard let rule = current.rules[id] else {
                throw AiosError(
                    .failed, "rule \(id)'s stored form cannot be read: \(record.specText)", location: field(index))
            }
            records.append(record)
            rules.append(rule)
        }
        var diff = records.prefix(50).map { Change("remove", "rule \($0.id)", detail: $0.summary) }
        if records.count > 50 { diff.append(Change("remove", "\(records.count - 50) more rules")) }
        return .change(diff) { [table, store, cache, records, rules] in
            try await cache.changes.withLock {
                // Rules another call removed (or that expired) since the plan are gone already:
                // removing them again is done, not an error.
                var removing = records
                var rules = rules
                if store.firewallRulesGeneration != planned {
                    let current = try await cache.snapshot()
                    let now = context.clock.nowMs()
                    let live = records.indices.filter { index in
                        current.byID[records[index].id].map { ($0.expiresMs ?? .max) > now } ?? false
                    }
                    removing = live.map { records[$0] }
                    rules = live.map { rules[$0] }
                    guard !removing.isEmpty else { return Output(removed: [], removedCount: 0) }
                }
                // Elements that expire meanwhile are gone from the kernel, and deleting a missing element
                // fails the whole batch: leave out those about to expire, retry once without the late ones.
                func deletions(expiringAfter margin: Int64) -> NftablesElementTransaction {
                    let after = context.clock.nowMs() + margin
                    let live = zip(removing, rules).lazy.filter { ($0.0.expiresMs ?? .max) > after }.map(\.1.elements)
                    return EntryPlanner.deleteElements(live, table: table.name)
                }
                func kernel() throws {
                    do {
                        try table.apply(deletions(expiringAfter: 2000), what: "cannot remove the rules")
                    } catch {
                        try table.apply(deletions(expiringAfter: 10_000), what: "cannot remove the rules")
                    }
                }
                let ids = removing.map(\.id)
                let endedMs = context.clock.nowMs()
                if removing.count < EntryPlanner.concurrentBatch {
                    try kernel()
                    try await store.endFirewallRules(ids: ids, state: "removed", endedMs: endedMs)
                } else {
                    // A big removal ends its rows while the kernel deletes their elements (the
                    // update costs about as much as the transaction). Whichever half fails, the
                    // other is undone. Dying between the two leaves elements without active rows
                    // (deleted by the next start's entry check) or active rows without elements
                    // (added back by it, with their remaining lifetime), as a small removal does.
                    async let ended = store.endFirewallRules(ids: ids, state: "removed", endedMs: endedMs)
                    var kernelError: (any Error)?
                    do { try kernel() } catch { kernelError = error }
                    var storeError: (any Error)?
                    do { _ = try await ended } catch { storeError = error }
                    if kernelError != nil, storeError == nil {
                        _ = try? await store.reactivateFirewallRules(ids: ids, endedMs: endedMs)
                    }
                    if kernelError == nil, storeError != nil {
                        // The elements go back with their remaining lifetime; those expired meanwhile stay out.
                        let now = context.clock.nowMs()
                        let back = zip(removing, rules).filter { ($0.0.expiresMs ?? .max) > now + 1000 }
                        _ = try? table.apply(
                            EntryPlanner.addElements(back, table: table.name, now: now, roundDown: true),
                            what: "compensate")
                    }
                    if let error = kernelError ?? storeError { throw error }
                }
                // The next allow/deny would reload the rules in force (and free the old ones) on its
                // own path: reload them now, after the answer.
                OwnedTasks.shared.run { _ = try? await cache.snapshot() }
                return Output(removed: removing.prefix(100).map(\.id), removedCount: removing.count)
            }
        }
    }
}
