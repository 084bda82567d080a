import AiosCore
import AiosStore

extension EntryPlanner {
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
}
