public import AiosCore
public import AiosCurl
public import AiosLinux
public import AiosStore
public import Logging

/// The `net.*` tools: interfaces, addressing, routes, DHCP with a fallback, probes, the link
/// monitor, WireGuard tunnels and meshes, address allocation.
public struct NetModule: ToolModule {
    public static let namespace = "net"
    let reader: any NetworkStateReading
    let context: NetContext?
    let http: any HTTPPerforming
    let handlers: [any LinkChangeHandling]
    let logger: Logger

    /// A module reading only (tests of the read tools with a fake kernel and fake HTTP).
    public init(reader: any NetworkStateReading, http: any HTTPPerforming) {
        self.reader = reader
        context = nil
        self.http = http
        handlers = []
        logger = Logger(label: "aios-net.net", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// The daemon's module: changes the daemon's own namespace through `kernel` (`RouteNetlink`
    /// in the daemon, a fake in unit tests).
    /// - Parameters:
    ///   - settings: data directory, hook binary, auto-configuration.
    ///   - http: HTTPS for `net.http_probe` (`HTTPClient`, with the daemon's CA bundle if given).
    ///   - redactor: WireGuard keys are registered with it as soon as they are loaded.
    ///   - handlers: who else gets the link monitor's changes.
    public init(
        kernel netlink: any NetworkKernel, http: any HTTPPerforming, store: Store, settings: NetSettings,
        redactor: Redactor? = nil, handlers: [any LinkChangeHandling] = [], logger: Logger
    ) {
        reader = netlink
        let keys = WireGuardKeyStore(directory: settings.dataDirectory + "/wireguard", redactor: redactor)
        context = NetContext(
            store: store, netlink: netlink,
            dhcp: DHCPClients(
                directory: settings.dataDirectory + "/net", store: store, hookBinary: settings.hookBinary),
            wireguard: WireGuardDevices(
                store: store, netlink: netlink, keys: keys, logDirectory: settings.dataDirectory + "/net",
                resolvConf: settings.resolvConf),
            settings: settings)
        self.http = http
        self.handlers = handlers
        self.logger = logger
    }

    public func register(in registry: inout ToolRegistry) throws {
        try registry.add(InterfacesTool(reader: reader))
        try registry.add(RoutesTool(reader: reader))
        try registry.add(TCPProbeTool())
        try registry.add(PingTool())
        try registry.add(HTTPProbeTool(http: http))
        try registry.add(DNSLookupTool(resolvConf: context?.settings.resolvConf ?? "/etc/resolv.conf"))
        guard let context else { return }
        try registry.add(ConfigureTool(context: context))
        try registry.add(InterfaceRestoreTool(context: context))
        try registry.add(IntentsTool(context: context))
        try registry.add(LinkSetTool(context: context))
        try registry.add(RouteAddTool(context: context))
        try registry.add(RouteRemoveTool(context: context))
        try registry.add(DHCPFallbackTool(context: context))
        try registry.add(FailoverTool(context: context))
        try registry.add(WireGuardSetupTool(context: context))
        try registry.add(WireGuardStatusTool(context: context))
        try registry.add(WireGuardPeerAddTool(context: context))
        try registry.add(WireGuardPeerRemoveTool(context: context))
        try registry.add(WireGuardRemoveTool(context: context))
        try registry.add(WireGuardMeshTool(context: context))
        try registry.add(AllocateTool(context: context))
        try registry.add(ReleaseTool(context: context))
    }

    public var background: [any BackgroundWork] {
        guard let context else { return [] }
        return [
            DHCPEventListener(clients: context.dhcp, store: context.store, logger: logger),
            LinkMonitor(context: context, handlers: handlers, logger: logger),
            WireGuardWatcher(context: context, logger: logger),
        ]
    }
}

/// Wraps an adapter failure reading kernel state.
func kernelError(_ what: String, _ error: any Error) -> AiosError {
    AiosError(.kernel, "cannot read \(what) from the kernel: \(error)", cause: error)
}
