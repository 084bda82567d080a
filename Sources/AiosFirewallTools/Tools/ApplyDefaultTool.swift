public import AiosCore
import AiosStore

/// `firewall.apply_default`: install or repair the default ruleset in one transaction (guarded).
public struct ApplyDefaultTool: Tool {
    /// Management access; absent fields fall back to the stored intent, then the daemon's settings.
    public struct Input: Decodable, Sendable {
        public var managementSubnets: [String]?
        public var managementPorts: [Int]?

        enum CodingKeys: String, CodingKey {
            case managementSubnets = "management_subnets"
            case managementPorts = "management_ports"
        }
    }

    /// What is in force afterwards.
    public struct Output: Codable, Sendable {
        public var table: String
        public var managementSubnets: [String]
        public var managementPorts: [Int]

        enum CodingKeys: String, CodingKey {
            case table
            case managementSubnets = "management_subnets"
            case managementPorts = "management_ports"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.apply_default",
        summary:
            "Install or repair the default ruleset (policy drop, management access, logged drops) in one transaction",
        effect: .disruptive,
        inputSchema: .object(
            [
                "management_subnets": .array(
                    of: .string("IPv4/IPv6 prefix"), "Who may reach the management ports", minItems: 1),
                "management_ports": .array(
                    of: .integer("TCP port", minimum: 1, maximum: 65535), "Management TCP ports (default 22, 9090)",
                    minItems: 1),
            ],
            examples: [
                ["management_subnets": ["192.168.10.0/24", "fd00:10::/64"]],
                ["management_subnets": ["10.0.0.0/8"], "management_ports": [22]],
            ]))

    let table: FirewallTable
    let store: Store
    let settings: FirewallSettings

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let storedValue = try await store.setting(ManagementIntent.settingKey)
        let stored: ManagementIntent? = try storedValue.map { try $0.decode() }
        let subnets = try ManagementIntent.normalise(
            input.managementSubnets ?? stored?.subnets ?? settings.managementSubnets, field: "input.management_subnets")
        guard !subnets.isEmpty else {
            throw AiosError(
                .invalidInput,
                "no management subnet: pass management_subnets or start the daemon with --management-subnet; a drop policy without one would lock operators out",
                location: InputLocation(field: "input.management_subnets"))
        }
        let intent = ManagementIntent(
            subnets: subnets, ports: input.managementPorts ?? stored?.ports ?? settings.managementPorts)
        let ruleset = DefaultRuleset(
            table: table.name, managementV4: intent.v4, managementV6: intent.v6, managementPorts: intent.ports,
            sandboxBridges: try await store.sandboxes().map(\.bridge))
        let current = try table.list()
        let listedMs = context.clock.nowMs()
        let output = Output(table: "inet \(table.name)", managementSubnets: subnets, managementPorts: intent.ports)
        let inspection = current.map { RulesetInspection($0) }
        var diff: [Change] = []
        if let inspection {
            for id in inspection.missingRules { diff.append(Change("add", "rule \(id)", detail: "repair")) }
            for (chain, policy) in inspection.policies where policy != "drop" {
                diff.append(Change("set", "chain \(chain) policy", detail: "\(policy) → drop"))
            }
            if Set(inspection.managementSubnets) != Set(subnets) || Set(inspection.managementPorts) != Set(intent.ports)
            {
                diff.append(
                    Change(
                        "set", "management access",
                        detail:
                            "tcp \(intent.ports.map(String.init).joined(separator: ",")) from \(subnets.joined(separator: ", "))"
                    ))
            }
        } else {
            diff = [
                Change("add", "table inet \(table.name)", detail: "input/output/forward policy drop, logged drops"),
                Change(
                    "add", "management access",
                    detail:
                        "tcp \(intent.ports.map(String.init).joined(separator: ",")) from \(subnets.joined(separator: ", "))"
                ),
                Change("add", "out", detail: "dns 53, https 443, ntp 123; loopback and established both ways"),
            ]
        }
        if diff.isEmpty {
            if stored != intent {
                try await store.setSetting(ManagementIntent.settingKey, try JSONValue(encoding: intent))
            }
            return .unchanged(output)
        }
        let inverse = CallRequest(
            tool: RestoreTool.descriptor.name,
            input: RestoreTool.input(snapshot: current, intent: storedValue, takenMs: listedMs))
        return .change(diff, inverse: inverse) {
            try table.apply(ruleset.commands(), what: "cannot apply the default ruleset")
            try await store.setSetting(ManagementIntent.settingKey, try JSONValue(encoding: intent))
            return output
        }
    }
}
