public import AiosCore
import AiosStore

/// `firewall.list`: the allow/deny rules in force, from the store (never by listing large sets).
public struct ListTool: Tool {
    /// How many to show.
    public struct Input: Decodable, Sendable {
        public var limit: Int?
    }

    /// Counts and the first rules, soonest expiry first.
    public struct Output: Codable, Sendable {
        public var counts: [String: Int]
        public var rules: [Rule]
        public var truncated: Bool
    }

    /// One rule.
    public struct Rule: Codable, Sendable {
        public var id: String
        public var verdict: String
        public var summary: String
        public var origin: String
        public var createdMs: Int64
        public var expiresMs: Int64?
        public var remainingSeconds: Int64?

        enum CodingKeys: String, CodingKey {
            case id, verdict, summary, origin
            case createdMs = "created_ms", expiresMs = "expires_ms", remainingSeconds = "remaining_s"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.list",
        summary: "List allow/deny rules in force with id, origin, created and remaining lifetime",
        effect: .read,
        inputSchema: .object(
            ["limit": .integer("At most this many rules (default 50)", minimum: 1, maximum: 100_000)],
            examples: [[:], ["limit": 10]]))

    let store: Store

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read { [store] in
            let now = context.clock.nowMs()
            let limit = input.limit ?? 50
            let counts = try await store.firewallRuleCounts(unexpiredAt: now)
            let rules = try await store.firewallRules(unexpiredAt: now, limit: limit)
            return Output(
                counts: counts,
                rules: rules.map {
                    Rule(
                        id: $0.id, verdict: $0.verdict, summary: $0.summary, origin: $0.origin, createdMs: $0.createdMs,
                        expiresMs: $0.expiresMs, remainingSeconds: $0.expiresMs.map { max(0, ($0 - now) / 1000) })
                }, truncated: counts.values.reduce(0, +) > rules.count)
        }
    }
}
