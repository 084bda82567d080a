public import AiosCore
public import AiosNftables
public import AiosStore

/// The `firewall.*` tools.
public struct FirewallModule: ToolModule {
    public static let namespace = "firewall"
    let nft: any NftablesRunning
    let store: Store
    let settings: FirewallSettings

    /// A module driving `nft` (the real libnftables in the daemon) and remembering intent in `store`.
    public init(nft: any NftablesRunning, store: Store, settings: FirewallSettings) {
        self.nft = nft
        self.store = store
        self.settings = settings
    }

    public func register(in registry: inout ToolRegistry) throws {
        let table = FirewallTable(nft: nft, name: settings.table)
        try registry.add(ApplyDefaultTool(table: table, store: store, settings: settings))
        try registry.add(RestoreTool(table: table, store: store))
        try registry.add(StatusTool(table: table, store: store))
        let planner = EntryPlanner(table: table, store: store)
        try registry.add(AllowTool(planner: planner))
        try registry.add(DenyTool(planner: planner))
        try registry.add(RemoveTool(table: table, store: store))
        try registry.add(ListTool(store: store))
        try registry.add(ReconcileTool(table: table, store: store))
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
