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
        /// When the snapshot was listed, epoch ms: the time since comes off every element's
        /// remaining lifetime (absent: the lifetimes are as of now).
        public var takenMs: Int64?

        enum CodingKeys: String, CodingKey {
            case snapshot, intent
            case takenMs = "taken_ms"
        }
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
                "taken_ms": .integer(
                    "When the snapshot was listed (epoch ms): that much time comes off each element's lifetime",
                    minimum: 0),
            ],
            examples: [[:]]))

    let table: FirewallTable
    let store: Store

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        try input.snapshot.map(table.checkOwnership)
        let current = try table.list()
        let listedMs = context.clock.nowMs()
        let currentIntent = try await store.setting(ManagementIntent.settingKey)
        let rules = input.snapshot?.filter { $0["rule"] != nil }.count ?? 0
        let output = Output(table: "inet \(table.name)", present: input.snapshot != nil, rules: rules)
        if input.snapshot == nil && current == nil { return .unchanged(output) }
        let diff =
            input.snapshot == nil
            ? [Change("remove", "table inet \(table.name)")]
            : [Change("set", "table inet \(table.name)", detail: "restored from a snapshot with \(rules) rules")]
        let inverse = CallRequest(
            tool: Self.descriptor.name, input: Self.input(snapshot: current, intent: currentIntent, takenMs: listedMs))
        return .change(diff, inverse: inverse) { [clock = context.clock] in
            let elapsed = input.takenMs.map { max(0, clock.nowMs() - $0) } ?? 0
            try table.apply(
                table.restoreCommands(input.snapshot, elapsedMs: elapsed),
                what: "cannot restore table inet \(table.name)")
            if let intent = input.intent {
                try await store.setSetting(ManagementIntent.settingKey, intent)
            } else {
                try await store.removeSetting(ManagementIntent.settingKey)
            }
            return output
        }
    }

    /// The input that restores `snapshot` (listed at `takenMs`) together with `intent`.
    static func input(snapshot: [JSONValue]?, intent: JSONValue?, takenMs: Int64) -> JSONValue {
        var members: [String: JSONValue] = ["taken_ms": .number(Double(takenMs))]
        if let snapshot { members["snapshot"] = .array(snapshot) }
        if let intent { members["intent"] = intent }
        return .object(members)
    }
}
