public import AiosCore
import AiosCurl
import AiosDNSTools
import AiosFirewallTools
public import AiosGoals
public import AiosLinux
import AiosNetTools
public import AiosNftables
public import AiosStore
import Foundation
public import Logging

/// The only place that knows the full list of tool modules: one line per module.
public enum Assembly {
    /// The daemon's registry for `options` (benchmarks and tests build the same one); `nft` and
    /// `kernel` are the firewall's adapters (the real nfnetlink one unless a test gives a fake).
    public static func registry(
        _ options: DaemonOptions, store: Store, nft: any NftablesRunning,
        kernel: any NftablesKernel = NftablesNetlink(), redactor: Redactor? = nil, logger: Logger
    ) throws -> ToolRegistry {
        var registry = ToolRegistry()
        try registry.install(
            NetModule(
                kernel: RouteNetlink(), http: HTTPClient(caFile: options.caFile), store: store,
                settings: NetSettings(
                    dataDirectory: options.dataDirectory, hookBinary: options.executablePath,
                    autoConfigure: options.autoConfigure, dhcpTimeoutMs: options.dhcpTimeoutMs,
                    resolvConf: options.resolvConf, wireguardCheckMs: options.wireguardCheckMs,
                    managementSubnets: options.managementSubnets),
                redactor: redactor, logger: logger))
        try registry.install(
            FirewallModule(
                nft: nft, kernel: kernel, store: store,
                settings: FirewallSettings(managementSubnets: options.managementSubnets)))
        try registry.install(dnsModule(options, store: store, logger: logger))
        if options.labTools {
            try registry.install(LabModule(directory: options.dataDirectory))
        }
        return registry
    }

    /// Goals over the tools of `registry`, installed into it (their reconciler observes the
    /// pipeline's changes; the caller hands it to the orchestrator).
    public static func installGoals(
        _ options: DaemonOptions, into registry: inout ToolRegistry, store: Store, clock: any Clock, logger: Logger
    ) throws -> GoalReconciler {
        let kinds = try GoalsModule.standardKinds(tools: registry)
        // The daemon never writes into the watch directory: beside the socket is `goals/`, or
        // `goal-status/` when the watch directory is that `goals/`.
        let beside = (options.socketPath as NSString).deletingLastPathComponent
        var statusDirectory = options.goalStatusDirectory ?? beside + "/goals"
        if let watched = options.goalsDirectory, Self.samePath(watched, statusDirectory) {
            guard options.goalStatusDirectory == nil else {
                throw AiosError(
                    .invalidInput, "the goal status directory cannot be the goals directory \(watched)",
                    location: InputLocation(field: "--goal-status-dir"))
            }
            statusDirectory = beside + "/goal-status"
        }
        let module = GoalsModule(
            kinds: kinds, sources: options.goalsDirectory.map { [GoalDirectory(path: $0)] } ?? [], store: store,
            clock: clock, settings: GoalSettings(resyncMs: options.goalResyncMs, statusDirectory: statusDirectory),
            kernelEvents: { try NetlinkEventSource().events() },
            firewallRemovals: { try NftablesEventSource().removals() }, logger: logger)
        try registry.install(module)
        return module.reconciler
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
    }

    static func dnsModule(_ options: DaemonOptions, store: Store, logger: Logger) throws -> DNSModule {
        var listen: (address: String, port: Int)?
        if let text = options.dnsListen, text != "off" {
            let parts = text.hasPrefix("[") ? text.dropFirst().split(separator: "]") : text.split(separator: ":")
            let port = parts.count > 1 ? Int(parts[1].trimmingPrefix(":")) : 53
            guard let address = parts.first.map(String.init), let port, (1...65535).contains(port) else {
                throw AiosError(
                    .invalidInput, "--dns-listen \(text) is not ADDR[:PORT] or off",
                    location: InputLocation(field: "--dns-listen"))
            }
            listen = (address, port)
        }
        return DNSModule(
            store: store, dataDirectory: options.dataDirectory, enabled: options.dnsListen != "off", listen: listen,
            upstreams: options.dnsUpstreams.isEmpty ? nil : options.dnsUpstreams, hostsFile: options.hostsFile,
            http: HTTPClient(caFile: options.caFile), unbound: options.unboundPath, caBundle: options.caFile,
            crashPoint: options.crashPoint,
            logger: logger)
    }
}
