public import AiosCore
import AiosLinux
import AiosStore

/// `firewall.sandbox_create`: a sandbox network — a bridge whose first address is the workloads'
/// gateway, IPv4 forwarding on, and the profile tables (`inet`/`bridge aios_sandbox`).
public struct SandboxCreateTool: Tool {
    /// The network to make.
    public struct Input: Decodable, Sendable {
        /// Its name (default `default`).
        public var name: String?
        /// The bridge (default `br-aios` for `default`, else `br-<name>`).
        public var bridge: String?
        /// IPv4 subnet (default 10.88.0.0/24); its first address goes to the bridge.
        public var subnet: String?
        /// The profile workloads get unless their attach says otherwise (default nat-filtered).
        public var profile: String?
    }

    /// The network in force.
    public struct Output: Codable, Sendable {
        public var name: String
        public var bridge: String
        public var subnet: String
        public var gateway: String
        public var profile: String
        /// Set when the firewall's default ruleset predates sandboxes and must be re-applied.
        public var warning: String?
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_create",
        summary: "Create a sandbox network: a bridge, its gateway address and the per-profile firewall tables",
        effect: .change,
        inputSchema: .object(
            [
                "name": .string("Sandbox name (default \"default\")", pattern: "^[a-z0-9][a-z0-9-]{0,31}$"),
                "bridge": .string("Bridge interface (default br-aios)", pattern: "^[A-Za-z0-9_.-]{1,15}$"),
                "subnet": .string("IPv4 subnet, /8 to /29 (default 10.88.0.0/24)", maxLength: 18),
                "profile": .string(
                    "Default profile of its workloads (default nat-filtered)",
                    values: SandboxProfile.allCases.map(\.rawValue)),
            ],
            examples: [[:], ["name": "ci", "bridge": "br-ci", "subnet": "10.89.0.0/24", "profile": "isolated"]]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let name = input.name ?? "default"
        let bridge = input.bridge ?? (name == "default" ? "br-aios" : String("br-\(name)".prefix(15)))
        let profile = input.profile ?? SandboxProfile.natFiltered.rawValue
        guard let subnet = CIDR(input.subnet ?? "10.88.0.0/24"), !subnet.isIPv6, (8...29).contains(subnet.length)
        else {
            throw AiosError(
                .invalidInput, "\(input.subnet ?? "") is not an IPv4 subnet between /8 and /29 (e.g. 10.88.0.0/24)",
                location: InputLocation(field: "input.subnet"))
        }
        let network = subnet.network
        let gateway = network.host(1)!
        let record = SandboxRecord(
            name: name, bridge: bridge, subnet: network.description, gateway: gateway, profile: profile,
            origin: context.origin.rawValue, createdMs: context.clock.nowMs())
        let existing = try await networks.store.sandbox(named: name)
        if let existing, existing.subnet != record.subnet || existing.bridge != bridge {
            throw AiosError(
                .invalidInput,
                "sandbox \(name) exists with bridge \(existing.bridge) and subnet \(existing.subnet); remove it first to change them",
                location: InputLocation(field: "input.subnet"))
        }
        for other in try await networks.store.sandboxes() where other.name != name {
            if other.bridge == bridge {
                throw AiosError(
                    .invalidInput, "bridge \(bridge) belongs to sandbox \(other.name)",
                    location: InputLocation(field: "input.bridge"))
            }
            if let theirs = CIDR(other.subnet), theirs.overlaps(network) {
                throw AiosError(
                    .invalidInput, "\(network) overlaps sandbox \(other.name)'s subnet \(other.subnet)",
                    location: InputLocation(field: "input.subnet"))
            }
        }
        let link = try networks.link(bridge)
        if let link, link.kind != "bridge" || existing == nil {
            throw AiosError(
                .invalidInput,
                "a link named \(bridge) already exists and is not a bridge of aios-net's; pick another name",
                location: InputLocation(field: "input.bridge"))
        }
        try checkSubnetIsFree(network, bridge: link?.index)

        var diff: [Change] = []
        let addresses = try link.map { link in
            try networks.netlink.addresses(family: 2).filter { $0.index == link.index }.map(\.address)
        }
        if link == nil { diff.append(Change("add", "bridge \(bridge)", detail: "\(gateway)/\(network.length)")) }
        if let addresses, !addresses.contains(gateway) {
            diff.append(Change("add", "address \(gateway)/\(network.length) on \(bridge)"))
        }
        if let link, link.flags & 1 == 0 { diff.append(Change("set", "link \(bridge)", detail: "up")) }
        let table = try networks.sandboxTable()
        if table == nil { diff.append(Change("add", "tables inet/bridge \(SandboxRuleset.table)", detail: "profiles")) }
        if existing == nil || existing?.profile != profile {
            diff.append(
                Change(existing == nil ? "add" : "set", "sandbox \(name)", detail: "default profile \(profile)"))
        }
        if Sysctl.read(SandboxNetworks.forwardingKey) != "1" {
            diff.append(Change("set", SandboxNetworks.forwardingKey, detail: "1"))
        }
        let warning = try networks.firewallHasSandboxSet() ? nil : try firewallWarning()
        let output = Output(
            name: name, bridge: bridge, subnet: network.description, gateway: gateway, profile: profile,
            warning: warning)
        guard !diff.isEmpty else { return .unchanged(output) }
        let commands = SandboxRuleset.skeleton() + SandboxRuleset.bridge(bridge, add: true)
        let inverse = CallRequest(tool: SandboxRemoveTool.descriptor.name, input: ["name": .string(name)])
        return .change(diff, inverse: inverse) { [networks] in
            try await networks.enableForwarding()
            var created = false
            let netlink = networks.netlink
            do {
                var index = link?.index
                if index == nil {
                    try netlink.createBridge(bridge)
                    created = true
                    index = try netlink.linkIndex(named: bridge)
                }
                guard let index else { throw AiosError(.kernel, "bridge \(bridge) vanished while being set up") }
                let assigned = try netlink.addresses(family: 2).filter { $0.index == index }.map(\.address)
                if !assigned.contains(gateway) {
                    try netlink.addAddress(CIDR("\(gateway)/\(network.length)")!, index: index)
                }
                try netlink.setLink(index: index, up: true)
                var all = commands
                // Existing sandboxes' bridges are re-added too: a repaired table gets its elements back.
                for other in try await networks.store.sandboxes() where other.name != name {
                    all += SandboxRuleset.bridge(other.bridge, add: true)
                }
                all += try networks.firewallBridgeCommands(bridge, add: true)
                try networks.apply(all, what: "cannot install the sandbox tables")
            } catch {
                if created, let index = try? netlink.linkIndex(named: bridge) { try? netlink.deleteLink(index: index) }
                if let error = error as? AiosError { throw error }
                throw networks.kernel("cannot set up bridge \(bridge)", error)
            }
            try await networks.store.saveSandbox(record)
            return output
        }
    }

    /// Refuses a subnet that overlaps an address already configured on another interface.
    private func checkSubnetIsFree(_ network: CIDR, bridge: Int32?) throws {
        let addresses: [NetlinkAddress]
        do {
            addresses = try networks.netlink.addresses(family: 2)
        } catch {
            throw networks.kernel("cannot read addresses", error)
        }
        for address in addresses where address.index != bridge && address.scope == 0 {
            guard let cidr = CIDR("\(address.address)/\(address.prefixLength)"), cidr.overlaps(network) else {
                continue
            }
            throw AiosError(
                .invalidInput,
                "\(network) overlaps \(cidr) configured on interface \(address.index); pick another subnet",
                location: InputLocation(field: "input.subnet"))
        }
    }

    private func firewallWarning() throws -> String? {
        let table = networks.firewallTable
        return try networks.list(family: "inet", table: table) != nil
            ? "table inet \(table) predates sandbox networks and will drop their traffic; run firewall.apply_default to repair it"
            : nil
    }
}
