import AiosCore
import AiosLinux
import AiosNftables
import AiosStore

/// What must not reach the kernel, or must leave it, before anything lists aios-net's table:
/// stored rules that the current validation refuses (an older version accepted `"*"` as an
/// interface; a database edited by hand), and entry elements libnftables cannot list back. Such
/// an element (an empty interface prefix) makes libnftables assert, which ends the process that
/// listed — the daemon at every start, the `nft` command too.
///
/// Quarantined rules leave the rules in force (state `quarantined`, an audit row each naming
/// why); the daemon serves without them.
struct Quarantine: Sendable {
    /// A stored rule that is refused, and why (as `firewall.reconcile` reports it).
    typealias Rule = ReconcileTool.Output.Quarantined

    var rules: [Rule] = []
    /// Elements of the interface sets whose name is empty, by set position.
    var elements: [(set: Int, element: NftablesSetElement)] = []

    var isEmpty: Bool { rules.isEmpty && elements.isEmpty }

    /// Finds both in `records` and the kernel's interface sets (only those can hold a name).
    static func find(_ records: [FirewallRuleRecord], table: FirewallTable, tableExists: Bool) throws -> Quarantine {
        var found = Quarantine()
        for record in records {
            let reason: String?
            do {
                reason = try EntryRule(specText: record.specText).storedProblem
            } catch {
                reason = "its stored form does not read back: \(error)"
            }
            if let reason { found.rules.append(Rule(id: record.id, summary: record.summary, reason: reason)) }
        }
        guard tableExists else { return found }
        for (position, entry) in EntrySets.all.enumerated() where entry.shape == .boxOnInterface {
            for element in try table.setElements(entry.name) where element.key.prefix(16).allSatisfy({ $0 == 0 }) {
                found.elements.append((position, element))
            }
        }
        return found
    }

    /// The kernel's side: one transaction deleting the unlistable elements.
    func purge(table: FirewallTable) throws {
        guard !elements.isEmpty else { return }
        var transaction = NftablesElementTransaction(family: .inet, table: table.name)
        var lists: [Int: NftablesElementList] = [:]
        for (set, element) in elements {
            guard let key = NftablesKey(bytes: element.key) else { continue }
            lists[set, default: NftablesElementList()]
                .append(key: key, keyEnd: element.keyEnd.flatMap(NftablesKey.init(bytes:)))
        }
        for (set, list) in lists.sorted(by: { $0.key < $1.key }) {
            transaction.delete(list, from: EntrySets.all[set].name)
        }
        try table.apply(transaction, what: "cannot delete the entry elements libnftables cannot list")
    }

    /// The store's side: the rules leave the rules in force, each with an audit row.
    func record(in store: Store, now: Int64) async throws {
        guard !rules.isEmpty else { return }
        _ = try await store.endFirewallRules(ids: rules.map(\.id), state: Self.state, endedMs: now)
        for rule in rules {
            try await store.record(
                AuditEvent(
                    timestampMs: now, kind: "firewall.rule_quarantined", result: "error",
                    detail: "rule \(rule.id) (\(rule.summary)) is not restored: \(rule.reason)"))
        }
    }

    /// The state a quarantined rule's row gets.
    static let state = "quarantined"
}
