import AiosCore
import AiosLinux
import AiosStore

/// What the `net.*` tools share: the kernel (rtnetlink), the store, the DHCP clients and the
/// WireGuard devices the daemon runs.
struct NetContext: Sendable {
    let store: Store
    let netlink: any NetworkKernel
    let dhcp: DHCPClients
    let wireguard: WireGuardDevices
    let settings: NetSettings

    /// The link named `name`.
    /// - Throws: `AiosError.notFound` naming `field` when there is none.
    func link(_ name: String, field: String = "input.interface") throws -> NetlinkLink {
        let links: [NetlinkLink]
        do {
            links = try netlink.links()
        } catch {
            throw kernelError("links", error)
        }
        guard let link = links.first(where: { $0.name == name }) else {
            throw AiosError(
                .notFound, "no interface named \(name); `aios-net call net.interfaces` lists them",
                location: InputLocation(field: field))
        }
        return link
    }

    /// Wraps a netlink failure in a change.
    func failed(_ what: String, _ error: any Error) -> AiosError {
        if let aios = error as? AiosError { return aios }
        return AiosError(.kernel, "\(what): \(error)", cause: error)
    }
}

/// Daemon-level `net` settings.
public struct NetSettings: Sendable {
    /// What the link monitor does with an interface that appears: `off`, `dhcp-only`, `dhcp-then-fallback`.
    public var autoConfigure: String
    /// How long `net.configure dhcp` waits for a lease before the fallback, ms.
    public var dhcpTimeoutMs: Int
    /// How long the fallback listens to the link, ms.
    public var fallbackListenMs: Int
    /// The data directory (`net/` holds dhcpcd state, `wireguard/` the keys).
    public var dataDirectory: String
    /// The aios-net binary dhcpcd runs as its hook.
    public var hookBinary: String
    /// The resolver configuration whose `nameserver` lines resolve names: `net.dns_lookup`
    /// without a server, WireGuard endpoint names.
    public var resolvConf: String
    /// How often WireGuard peers whose handshake went stale have their endpoint names
    /// re-resolved, ms.
    public var wireguardCheckMs: Int
    /// The daemon's `--management-subnet`s: routes into them are guarded (`RouteCapture`).
    public var managementSubnets: [String] = []

    /// Creates settings.
    public init(
        dataDirectory: String, hookBinary: String, autoConfigure: String = "off", dhcpTimeoutMs: Int = 10_000,
        fallbackListenMs: Int = 3_000, resolvConf: String = "/etc/resolv.conf", wireguardCheckMs: Int = 30_000,
        managementSubnets: [String] = []
    ) {
        self.managementSubnets = managementSubnets
        self.resolvConf = resolvConf
        self.wireguardCheckMs = wireguardCheckMs
        self.dataDirectory = dataDirectory
        self.hookBinary = hookBinary
        self.autoConfigure = autoConfigure
        self.dhcpTimeoutMs = dhcpTimeoutMs
        self.fallbackListenMs = fallbackListenMs
    }
}
