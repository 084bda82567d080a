import Foundation

/// How a daemon is set up: where its state, socket and policy are, and who may talk to it.
public struct DaemonOptions: Sendable {
    /// The data directory (database).
    public var dataDirectory: String
    /// The control socket's path.
    public var socketPath: String
    /// The policy file; nil means the built-in default policy.
    public var policyPath: String?
    /// A group (name or gid) whose members may use the control socket besides root.
    public var controlGroup: String?
    /// Management subnets the firewall keeps open (`--management-subnet`).
    public var managementSubnets: [String]
    /// Registers the `lab.*` tools (lab and tests only).
    public var labTools: Bool
    /// The process environment (for `NOTIFY_SOCKET`).
    public var environment: [String: String]
    /// Where the managed resolver listens (`ADDR[:PORT]`), `off` for no resolver; nil: the stored
    /// setting (default 127.0.0.1:53).
    public var dnsListen: String?
    /// Upstream resolvers given on the command line (empty: the stored setting).
    public var dnsUpstreams: [String] = []
    /// A hosts file whose `# BEGIN aios-net` section mirrors the local DNS records.
    public var hostsFile: String?
    /// An extra CA bundle for HTTPS downloads (a lab's own CA).
    public var caFile: String?
    /// The unbound binary.
    public var unboundPath = "/usr/sbin/unbound"
    /// What the link monitor does with an interface that appears: `off`, `dhcp-only`,
    /// `dhcp-then-fallback`.
    public var autoConfigure = "off"
    /// How long a DHCP attempt (and a renewal after a lost lease) waits before the fallback.
    public var dhcpTimeoutMs = 10_000
    /// The resolver configuration whose nameservers `net.dns_lookup` (without a server) and
    /// WireGuard endpoint names use; boot points it at the managed resolver.
    public var resolvConf = "/etc/resolv.conf"
    /// How often WireGuard peers whose handshake went stale have their endpoint names re-resolved.
    public var wireguardCheckMs = 30_000
    /// The goals watch directory (nil: no goals read). The CLI's default is /etc/aios-net/goals.d.
    public var goalsDirectory: String?
    /// Where goal status files are written; default `goals/` beside the control socket.
    public var goalStatusDirectory: String?
    /// How often every goal is looked at again without an event.
    public var goalResyncMs: Int64 = 300_000
    /// `--boot`: apply the Connectivity goal before READY=1, within `bootTimeoutMs`.
    public var boot = false
    public var bootTimeoutMs: Int64 = 60_000
    /// This program (dhcpcd runs it as its hook).
    public var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// A test hook from `AIOS_NET_CRASH_POINT`: the daemon kills itself (SIGKILL) at that point
    /// (`hosts-before-rename`), so tests can show a crash there loses nothing.
    public var crashPoint: String? { environment["AIOS_NET_CRASH_POINT"] }

    /// Creates options.
    public init(
        dataDirectory: String, socketPath: String, policyPath: String? = nil, controlGroup: String? = nil,
        managementSubnets: [String] = [], labTools: Bool = false, environment: [String: String] = [:]
    ) {
        self.managementSubnets = managementSubnets
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath
        self.policyPath = policyPath
        self.controlGroup = controlGroup
        self.labTools = labTools
        self.environment = environment
    }
}
