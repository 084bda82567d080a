public import AiosCore
import AiosStore

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
