public import AiosCore
import AiosFirewallTools
import AiosNetTools
public import AiosNftables
public import AiosStore

/// The only place that knows the full list of tool modules: one line per module.
public enum Assembly {
    /// The daemon's registry for `options` (benchmarks and tests build the same one).
    public static func registry(_ options: DaemonOptions, store: Store, nft: any NftablesRunning) throws -> ToolRegistry
    {
        var registry = ToolRegistry()
        try registry.install(NetModule())
        try registry.install(
            FirewallModule(
                nft: nft, store: store, settings: FirewallSettings(managementSubnets: options.managementSubnets)))
        if options.labTools {
            try registry.install(LabModule(directory: options.dataDirectory))
        }
        return registry
    }
}
