public import AiosCore
import AiosStore

/// `firewall.sandbox_detach`: take a workload off its sandbox network (its veth and rules go).
public struct SandboxDetachTool: Tool {
    /// The workload.
    public struct Input: Decodable, Sendable {
        public var sandbox: String?
        public var workload: String
    }

    /// What was done.
    public struct Output: Codable, Sendable {
        public var sandbox: String
        public var workload: String
        /// False when the workload was not attached (nothing to do).
        public var detached: Bool
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_detach", summary: "Detach a workload from a sandbox network (its veth and rules go)",
        effect: .change,
        inputSchema: .object(
            [
                "sandbox": .string("Sandbox name (default \"default\")", pattern: "^[a-z0-9][a-z0-9-]{0,31}$"),
                "workload": .string("Workload name", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
            ], required: ["workload"], examples: [["workload": "task-001"]]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let sandbox = input.sandbox ?? "default"
        guard try await networks.store.sandbox(named: sandbox) != nil else {
            throw AiosError(.notFound, "no sandbox named \(sandbox)", location: InputLocation(field: "input.sandbox"))
        }
        guard
            let record = try await networks.store.sandboxWorkloads(in: sandbox).first(where: {
                $0.name == input.workload
            })
        else {
            return .unchanged(Output(sandbox: sandbox, workload: input.workload, detached: false))
        }
        let diff = [
            Change(
                "remove", "workload \(record.name)",
                detail: [record.profile, record.address].compactMap { $0 }.joined(separator: " "))
        ]
        let inverse = CallRequest(
            tool: SandboxAttachTool.descriptor.name, input: SandboxAttachTool.input(for: record, interface: nil))
        return .change(diff, inverse: inverse) { [networks] in
            let commands = SandboxWorkloadPlumbing.elements(record, add: false)
            if !commands.isEmpty, try networks.sandboxTable() != nil {
                try networks.apply(commands, what: "cannot remove the workload's rules")
            }
            try SandboxWorkloadPlumbing.unplumb(record, networks: networks)
            try await networks.store.deleteSandboxWorkload(sandbox: sandbox, name: record.name)
            return Output(sandbox: sandbox, workload: record.name, detached: true)
        }
    }
}
