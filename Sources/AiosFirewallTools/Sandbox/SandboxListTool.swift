public import AiosCore
import AiosLinux
import AiosStore

/// `firewall.sandbox_list`: every sandbox network with its workloads, and the counters of the
/// sandbox rules (connections logged, drops).
public struct SandboxListTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}

    /// Sandboxes and counters.
    public struct Output: Codable, Sendable {
        public var sandboxes: [Sandbox]
        /// Packets of new connections that were allowed and logged (`aios-sbx-conn: `).
        public var connectionsLogged: Int
        /// Packets dropped by sandbox rules (profiles, spoofing, workload-to-workload).
        public var dropped: Int
        /// False when the sandbox tables are missing (run firewall.sandbox_reconcile).
        public var tablesPresent: Bool

        enum CodingKeys: String, CodingKey {
            case sandboxes, dropped
            case connectionsLogged = "connections_logged", tablesPresent = "tables_present"
        }
    }

    /// One sandbox.
    public struct Sandbox: Codable, Sendable {
        public var name: String
        public var bridge: String
        public var subnet: String
        public var gateway: String
        public var profile: String
        public var bridgePresent: Bool
        public var workloads: [Workload]

        enum CodingKeys: String, CodingKey {
            case name, bridge, subnet, gateway, profile, workloads
            case bridgePresent = "bridge_present"
        }
    }

    /// One workload.
    public struct Workload: Codable, Sendable {
        public var name: String
        public var profile: String
        public var address: String?
        public var hostInterface: String?
        public var namespace: String?
        public var linked: Bool

        enum CodingKeys: String, CodingKey {
            case name, profile, address, namespace, linked
            case hostInterface = "host_interface"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_list", summary: "List sandbox networks, their workloads and the sandbox rule counters",
        effect: .read, inputSchema: .object(examples: [[:]]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read { [networks] in
            let links = Set(try networks.netlink.links().map(\.name))
            let workloads = try await networks.store.sandboxWorkloads()
            let sandboxes = try await networks.store.sandboxes().map { sandbox in
                Sandbox(
                    name: sandbox.name, bridge: sandbox.bridge, subnet: sandbox.subnet, gateway: sandbox.gateway,
                    profile: sandbox.profile, bridgePresent: links.contains(sandbox.bridge),
                    workloads: workloads.filter { $0.sandbox == sandbox.name }.map {
                        Workload(
                            name: $0.name, profile: $0.profile, address: $0.address, hostInterface: $0.hostInterface,
                            namespace: $0.namespace, linked: $0.hostInterface.map(links.contains) ?? false)
                    })
            }
            var logged = 0
            var dropped = 0
            let table = try networks.sandboxTable()
            let layer2 = try networks.list(family: "bridge", table: SandboxRuleset.table) ?? []
            for object in (table ?? []) + layer2 {
                guard let rule = object["rule"], let expressions = rule["expr"]?.arrayValue else { continue }
                let packets = expressions.compactMap { $0["counter"]?["packets"]?.intValue }.first ?? 0
                let prefix = expressions.compactMap { $0["log"]?["prefix"]?.stringValue }.first
                let drops = expressions.contains { $0["drop"] != nil }
                if prefix == SandboxRuleset.connectionPrefix { logged += packets } else if drops { dropped += packets }
            }
            return Output(
                sandboxes: sandboxes, connectionsLogged: logged, dropped: dropped, tablesPresent: table != nil)
        }
    }
}
