public import AiosCore
import AiosCurl
import AiosDNSTools
import AiosFirewallTools
public import AiosLinux
import AiosNetTools
public import AiosNftables
public import AiosStore
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
            http: HTTPClient(caFile: options.caFile), unbound: options.unboundPath, crashPoint: options.crashPoint,
            logger: logger)
    }
}
