public import AiosCore
import AiosStore

/// `firewall.restore`: put aios-net's table back as a snapshot had it (or remove it), in one
/// transaction. The inverse of every firewall change; set elements keep their remaining lifetime.
public struct RestoreTool: Tool {
    /// The snapshot: the table's objects as `firewall.status`/a listing gives them; absent removes the table.
    public struct Input: Decodable, Sendable {
        public var snapshot: [JSONValue]?
        /// The management intent that belongs with the snapshot (absent: none stored).
        public var intent: JSONValue?
    }

    /// What was done.
    public struct Output: Codable, Sendable {
        public var table: String
        public var present: Bool
        public var rules: Int
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.restore",
        summary: "Restore aios-net's nftables table from a snapshot (absent: remove the table) in one transaction",
        effect: .disruptive,
        inputSchema: .object(
            [
                "snapshot": .array(
                    of: JSONSchema(["type": "object"]),
                    "Table objects from a listing (nft JSON); omit to remove the table"),
                "intent": JSONSchema(["type": "object", "description": "The apply_default intent to store with it"]),
            ],
            examples: [[:]]))

    let table: FirewallTable
    let store: Store

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let current = try table.list()
        let currentIntent = try await store.setting(ManagementIntent.settingKey)
        let rules = input.snapshot?.filter { $0["rule"] != nil }.count ?? 0
        let output = Output(table: "inet \(table.name)", present: input.snapshot != nil, rules: rules)
        if input.snapshot == nil && current == nil { return .unchanged(output) }
        let diff =
            input.snapshot == nil
            ? [Change("remove", "table inet \(table.name)")]
            : [Change("set", "table inet \(table.name)", detail: "restored from a snapshot with \(rules) rules")]
        let inverse = CallRequest(
            tool: Self.descriptor.name, input: Self.input(snapshot: current, intent: currentIntent))
        return .change(diff, inverse: inverse) {
            try table.apply(table.restoreCommands(input.snapshot), what: "cannot restore table inet \(table.name)")
            if let intent = input.intent {
                try await store.setSetting(ManagementIntent.settingKey, intent)
            } else {
                try await store.removeSetting(ManagementIntent.settingKey)
            }
            return output
        }
    }

    /// The input that restores `snapshot` together with `intent`.
    static func input(snapshot: [JSONValue]?, intent: JSONValue?) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let snapshot { members["snapshot"] = .array(snapshot) }
        if let intent { members["intent"] = intent }
        return .object(members)
    }
}
