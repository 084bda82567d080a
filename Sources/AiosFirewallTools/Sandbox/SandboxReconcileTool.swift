public import AiosCore
import AiosLinux
import AiosStore

/// `firewall.sandbox_reconcile`: make the stored sandboxes true again — after a reboot the bridges
/// and tables are gone, after a daemon restart they are normally all there (then nothing
/// changes). Bridges, their addresses and the tables come back; workloads whose veth is gone
/// (their namespace died with the reboot) are forgotten, with an event each. The daemon runs it
/// at start with origin `boot`.
public struct SandboxReconcileTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}

    /// What was repaired.
    public struct Output: Codable, Sendable {
        public var bridges: [String]
        public var tables: Bool
        /// Workloads forgotten because their veth is gone.
        public var forgotten: [String]
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_reconcile",
        summary:
            "Restore stored sandbox networks (bridges, tables, workloads' rules) after a reboot; no-op when intact",
        effect: .change, inputSchema: .object(examples: [[:]]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let sandboxes = try await networks.store.sandboxes()
        guard !sandboxes.isEmpty else { return .unchanged(Output(bridges: [], tables: false, forgotten: [])) }
        let workloads = try await networks.store.sandboxWorkloads()
        let links = try networks.netlink.links()
        let names = Set(links.map(\.name))
        let addresses = try networks.netlink.addresses(family: 2)
        var broken: [SandboxRecord] = []
        for sandbox in sandboxes {
            guard let link = links.first(where: { $0.name == sandbox.bridge }) else {
                broken.append(sandbox)
                continue
            }
            if link.flags & 1 == 0
                || !addresses.contains(where: { $0.index == link.index && $0.address == sandbox.gateway })
            {
                broken.append(sandbox)
            }
        }
        let gone = workloads.filter { record in record.hostInterface.map { !names.contains($0) } ?? false }
        // Ports whose bridge was re-made (or that someone released) are put back on it.
        let bridgeIndex = Dictionary(
            sandboxes.compactMap { sandbox in links.first { $0.name == sandbox.bridge }.map { (sandbox.name, $0.index) }
            },
            uniquingKeysWith: { first, _ in first })
        let loose = workloads.filter { record in
            guard let host = record.hostInterface, let link = links.first(where: { $0.name == host }) else {
                return false
            }
            return bridgeIndex[record.sandbox] == nil || link.master != bridgeIndex[record.sandbox]
        }
        let tableMissing = try networks.sandboxTable() == nil
        let output = Output(
            bridges: broken.map(\.bridge), tables: tableMissing, forgotten: gone.map { "\($0.sandbox)/\($0.name)" })
        guard !broken.isEmpty || !gone.isEmpty || !loose.isEmpty || tableMissing else { return .unchanged(output) }
        let repair = broken
        var diff = repair.map { Change("add", "bridge \($0.bridge)", detail: "\($0.gateway) for sandbox \($0.name)") }
        if tableMissing { diff.append(Change("add", "tables inet/bridge \(SandboxRuleset.table)", detail: "restored")) }
        diff += gone.map { Change("remove", "workload \($0.sandbox)/\($0.name)", detail: "its veth is gone") }
        diff += loose.map { Change("set", "veth \($0.hostInterface ?? "")", detail: "back on its bridge") }
        return .change(diff) { [networks] in
            try await networks.enableForwarding()
            let netlink = networks.netlink
            for sandbox in repair {
                do {
                    if try netlink.linkIndex(named: sandbox.bridge) == nil { try netlink.createBridge(sandbox.bridge) }
                    guard let index = try netlink.linkIndex(named: sandbox.bridge) else { continue }
                    let length = CIDR(sandbox.subnet)?.length ?? 24
                    let present = try netlink.addresses(family: 2).contains {
                        $0.index == index && $0.address == sandbox.gateway
                    }
                    if !present { try netlink.addAddress(CIDR("\(sandbox.gateway)/\(length)")!, index: index) }
                    try netlink.setLink(index: index, up: true)
                } catch {
                    throw networks.kernel("cannot restore bridge \(sandbox.bridge)", error)
                }
            }
            for record in loose {
                guard let host = record.hostInterface,
                    let bridge = sandboxes.first(where: { $0.name == record.sandbox })
                else { continue }
                do {
                    if let port = try netlink.linkIndex(named: host),
                        let master = try netlink.linkIndex(named: bridge.bridge)
                    {
                        try netlink.setLink(index: port, master: master)
                        try netlink.setLink(index: port, up: true)
                    }
                } catch {
                    throw networks.kernel("cannot put \(host) back on \(bridge.bridge)", error)
                }
            }
            var commands: [JSONValue] = []
            for record in gone {
                commands += SandboxWorkloadPlumbing.elements(record, add: false)
            }
            if tableMissing {
                commands = SandboxRuleset.skeleton()
                for sandbox in sandboxes {
                    commands += SandboxRuleset.bridge(sandbox.bridge, add: true)
                    commands += try networks.firewallBridgeCommands(sandbox.bridge, add: true)
                }
                for record in workloads where !gone.contains(record) {
                    commands += SandboxWorkloadPlumbing.elements(record, add: true)
                }
            }
            if !commands.isEmpty { try networks.apply(commands, what: "cannot restore the sandbox tables") }
            for record in gone {
                try await networks.store.deleteSandboxWorkload(sandbox: record.sandbox, name: record.name)
                try await networks.store.record(
                    AuditEvent(
                        timestampMs: context.clock.nowMs(), kind: "sandbox.workload_gone", callID: context.callID,
                        origin: context.origin.rawValue, tool: Self.descriptor.name, result: "ok",
                        detail: "\(record.sandbox)/\(record.name): veth \(record.hostInterface ?? "") is gone"))
            }
            return output
        }
    }
}
