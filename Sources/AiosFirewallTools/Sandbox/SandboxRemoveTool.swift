public import AiosCore
import AiosLinux
import AiosStore

/// `firewall.sandbox_remove`: detach every workload, delete the bridge, and — with the last
/// sandbox — the sandbox tables, and put IPv4 forwarding back as it was.
public struct SandboxRemoveTool: Tool {
    /// The sandbox.
    public struct Input: Decodable, Sendable {
        public var name: String?
    }

    /// What was removed.
    public struct Output: Codable, Sendable {
        public var name: String
        public var removed: Bool
        public var workloads: Int
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_remove",
        summary: "Remove a sandbox network: detach its workloads, delete its bridge and (last one) the sandbox tables",
        effect: .change,
        inputSchema: .object(
            ["name": .string("Sandbox name (default \"default\")", pattern: "^[a-z0-9][a-z0-9-]{0,31}$")],
            examples: [[:], ["name": "ci"]]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let name = input.name ?? "default"
        guard let sandbox = try await networks.store.sandbox(named: name) else {
            return .unchanged(Output(name: name, removed: false, workloads: 0))
        }
        let workloads = try await networks.store.sandboxWorkloads(in: name)
        let others = try await networks.store.sandboxes().filter { $0.name != name }
        var diff = workloads.map { Change("remove", "workload \($0.name)") }
        diff.append(Change("remove", "bridge \(sandbox.bridge)", detail: sandbox.subnet))
        if others.isEmpty { diff.append(Change("remove", "tables inet/bridge \(SandboxRuleset.table)")) }
        let inverse = CallRequest(
            tool: SandboxCreateTool.descriptor.name,
            input: [
                "name": .string(name), "bridge": .string(sandbox.bridge), "subnet": .string(sandbox.subnet),
                "profile": .string(sandbox.profile),
            ])
        return .change(diff, inverse: inverse) { [networks] in
            var commands: [JSONValue] = []
            if try networks.sandboxTable() != nil {
                commands =
                    others.isEmpty
                    ? SandboxRuleset.removeTables()
                    : workloads.flatMap { SandboxWorkloadPlumbing.elements($0, add: false) }
                        + SandboxRuleset.bridge(sandbox.bridge, add: false)
            }
            commands += try networks.firewallBridgeCommands(sandbox.bridge, add: false)
            if !commands.isEmpty { try networks.apply(commands, what: "cannot remove the sandbox's rules") }
            for workload in workloads { try SandboxWorkloadPlumbing.unplumb(workload, networks: networks) }
            if let bridge = try networks.link(sandbox.bridge) {
                do {
                    try networks.netlink.deleteLink(index: bridge.index)
                } catch {
                    throw networks.kernel("cannot delete bridge \(sandbox.bridge)", error)
                }
            }
            try await networks.store.deleteSandbox(named: name)
            if others.isEmpty { try await networks.restoreForwarding() }
            return Output(name: name, removed: true, workloads: workloads.count)
        }
    }
}
