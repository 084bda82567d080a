public import AiosCore
public import AiosLinux
public import AiosNftables
public import AiosStore

/// The `firewall.*` tools.
public struct FirewallModule: ToolModule {
    public static let namespace = "firewall"
    let nft: any NftablesRunning
    let kernel: any NftablesKernel
    let store: Store
    let settings: FirewallSettings
    let netlink: RouteNetlink

    /// A module driving `nft` (libnftables) and `kernel` (nfnetlink: dumps and element
    /// transactions) — the real ones in the daemon, fakes in unit tests — and remembering intent
    /// in `store`; sandbox bridges and veths are made over rtnetlink in the daemon's namespace.
    public init(
        nft: any NftablesRunning, kernel: any NftablesKernel, store: Store, settings: FirewallSettings,
        netlink: RouteNetlink = RouteNetlink()
    ) {
        self.nft = nft
        self.kernel = kernel
        self.store = store
        self.settings = settings
        self.netlink = netlink
    }

    public func register(in registry: inout ToolRegistry) throws {
        let table = FirewallTable(nft: nft, kernel: kernel, name: settings.table)
        try registry.add(ApplyDefaultTool(table: table, store: store, settings: settings))
        try registry.add(RestoreTool(table: table, store: store))
        let planner = EntryPlanner(table: table, store: store)
        try registry.add(StatusTool(table: table, store: store, active: planner.active))
        try registry.add(AllowTool(planner: planner))
        try registry.add(DenyTool(planner: planner))
        try registry.add(RemoveTool(table: table, store: store, cache: planner.active))
        try registry.add(ListTool(store: store))
        try registry.add(ReconcileTool(table: table, store: store, active: planner.active))
        let sandboxes = SandboxNetworks(nft: nft, store: store, netlink: netlink, firewallTable: settings.table)
        try registry.add(SandboxCreateTool(networks: sandboxes))
        try registry.add(SandboxAttachTool(networks: sandboxes))
        try registry.add(SandboxDetachTool(networks: sandboxes))
        try registry.add(SandboxRemoveTool(networks: sandboxes))
        try registry.add(SandboxListTool(networks: sandboxes))
        try registry.add(SandboxReconcileTool(networks: sandboxes))
    }
}

/// Daemon-level firewall settings.
public struct FirewallSettings: Sendable {
    /// aios-net's table (family inet).
    public var table: String
    /// Management subnets used when a call names none (`--management-subnet`).
    public var managementSubnets: [String]
    /// Management TCP ports.
    public var managementPorts: [Int]

    /// Creates settings.
    public init(table: String = "aios_firewall", managementSubnets: [String] = [], managementPorts: [Int] = [22, 9090])
    {
        self.table = table
        self.managementSubnets = managementSubnets
        self.managementPorts = managementPorts
    }
}

/// Wraps a libnftables failure.
func nftError(_ what: String, _ error: NftablesError) -> AiosError {
    AiosError(.kernel, "\(what): libnftables said: \(error.message)", cause: error)
}
