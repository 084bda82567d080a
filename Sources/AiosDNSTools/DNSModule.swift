public import AiosCore
public import AiosCurl
public import AiosStore
import Foundation
public import Logging

/// The `dns.*` tools and the managed resolver behind them.
public struct DNSModule: ToolModule {
    public static let namespace = "dns"
    let context: DNSContext
    let enabled: Bool
    let logger: Logger

    /// A module whose resolver state lives under `dataDirectory`/dns.
    /// - Parameters:
    ///   - enabled: false (`--dns-listen off`): the tools exist, no unbound is started.
    ///   - listen/upstreams: command-line values that win over stored settings at start.
    ///   - hostsFile: a hosts file whose `# BEGIN aios-net` section mirrors the local records.
    ///   - http: HTTPS for list downloads (`HTTPClient`, with the daemon's CA bundle if given).
    ///   - caBundle: the CA bundle DNS-over-TLS upstreams are verified against (`--ca-file`;
    ///     default the system's).
    ///   - crashPoint: a test hook (`hosts-before-rename`, `zones-mid-load`).
    public init(
        store: Store, dataDirectory: String, enabled: Bool = true, listen: (address: String, port: Int)? = nil,
        upstreams: [String]? = nil, hostsFile: String? = nil, http: any HTTPPerforming,
        unbound: String = "/usr/sbin/unbound", caBundle: String? = nil, crashPoint: String? = nil, logger: Logger
    ) {
        let paths = DNSPaths(dataDirectory: dataDirectory)
        let resolver = ManagedResolver(paths: paths, store: store, executable: unbound, caBundle: caBundle)
        var defaults = DNSSettings()
        if let listen {
            defaults.listenAddress = listen.address
            defaults.port = listen.port
        }
        context = DNSContext(
            store: store, paths: paths, resolver: resolver,
            zones: BlockZones(paths: paths, store: store, resolver: resolver, crashPoint: crashPoint),
            rows: ListZoneRows(store: store, paths: paths),
            records: LocalRecords(paths: paths, resolver: resolver, hostsFile: hostsFile, crashPoint: crashPoint),
            source: BlocklistSource(http: http, paths: paths), defaults: defaults,
            overrides: DNSOverrides(listen: listen, upstreams: upstreams))
        self.enabled = enabled
        self.logger = logger
    }

    public func register(in registry: inout ToolRegistry) throws {
        try registry.add(DNSStatusTool(context: context))
        try registry.add(DNSConfigureTool(context: context))
        try registry.add(ResolvConfTool())
        try registry.add(LookupTool(context: context))
        try registry.add(BlocklistAddTool(context: context))
        try registry.add(BlocklistRefreshTool(context: context))
        try registry.add(BlocklistRemoveTool(context: context))
        try registry.add(BlocklistListTool(context: context))
        try registry.add(BlockTool(context: context))
        try registry.add(UnblockTool(context: context))
        try registry.add(AllowTool(context: context))
        try registry.add(AllowRemoveTool(context: context))
        try registry.add(RecordsSetTool(context: context))
        try registry.add(RecordsRemoveTool(context: context))
        try registry.add(RecordsRestoreTool(context: context))
        try registry.add(RecordsListTool(context: context))
    }

    public var background: [any BackgroundWork] {
        enabled ? [ResolverSupervisor(context: context, logger: logger)] : []
    }
}
