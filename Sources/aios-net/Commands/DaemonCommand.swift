import AiosControl
import AiosCore
import AiosDaemon
import ArgumentParser
import Foundation
import Logging

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the aios-net daemon in the foreground.",
        discussion: """
            Opens the database, loads the policy, finishes any rollback a previous run left open, then
            serves the control socket until SIGTERM or SIGINT. Under systemd (Type=notify) it reports
            READY=1 once the socket is listening.

            Examples:
              aios-net daemon
              aios-net daemon --data-dir /var/lib/aios-net --policy /etc/aios-net/policy.yaml
              aios-net daemon --socket /tmp/aios.sock --data-dir /tmp/aios --control-group netadmin
              aios-net daemon --management-subnet 192.168.10.0/24 --management-subnet fd00:10::/64
              aios-net daemon --dns-upstream 192.0.2.53 --dns-listen 127.0.0.1:53 --hosts-file /etc/hosts
              aios-net daemon --dns-listen off        # no managed resolver
              aios-net daemon --auto-configure dhcp-then-fallback --dhcp-timeout 5s
              aios-net daemon --resolv-conf /run/aios-net/resolv.conf --wireguard-check 10s
            """)

    @OptionGroup var dataDirectory: DataDirectoryOption

    @Option(help: "Control socket path (default: $AIOS_NET_SOCKET or /run/aios-net/control.sock).")
    var socket: String?

    @Option(help: "Policy file (YAML); default: the built-in conservative policy.")
    var policy: String?

    @Option(
        name: .customLong("control-group"),
        help: "Group (name or gid) whose members may use the control socket besides root.")
    var controlGroup: String?

    @Option(
        name: .customLong("management-subnet"),
        help: "A subnet (CIDR) the firewall keeps open for management (TCP 22, 9090); repeatable.")
    var managementSubnets: [String] = []

    @Option(
        name: .customLong("dns-listen"),
        help: "Where the managed unbound listens (ADDR[:PORT], default 127.0.0.1:53), or off for none.")
    var dnsListen: String?

    @Option(
        name: .customLong("dns-upstream"),
        help: "An upstream resolver ADDR[:PORT] for the managed unbound; repeatable (default: the stored setting).")
    var dnsUpstreams: [String] = []

    @Option(
        name: .customLong("hosts-file"),
        help: "A hosts file whose '# BEGIN aios-net' section mirrors the local DNS records (default: none).")
    var hostsFile: String?

    @Option(
        name: .customLong("ca-file"),
        help: "A CA bundle (PEM) trusted instead of the system's for HTTPS downloads (a lab's own CA).")
    var caFile: String?

    @Flag(name: .customLong("lab-tools"), help: "Register the lab.* tools (lab demo and tests only).")
    var labTools = false

    @Option(
        name: .customLong("auto-configure"),
        help: "What the link monitor does with a new interface: off (default), dhcp-only or dhcp-then-fallback.")
    var autoConfigure: String = "off"

    @Option(
        name: .customLong("dhcp-timeout"),
        help: "How long to wait for a DHCP lease before the fallback, e.g. 10s (default) or 3s.")
    var dhcpTimeout: String = "10s"

    @Option(
        name: .customLong("resolv-conf"),
        help:
            "The resolver configuration whose nameservers resolve WireGuard endpoint names and net.dns_lookup without a server."
    )
    var resolvConf: String = "/etc/resolv.conf"

    @Option(
        name: .customLong("wireguard-check"),
        help:
            "How often WireGuard peers whose handshake is stale (over 3 min) have their endpoint names re-resolved, e.g. 30s or 5m."
    )
    var wireguardCheck: String = "30s"

    @Option(
        name: .customLong("goals-dir"),
        help: "The goals watch directory (YAML goal files), or off for none.")
    var goalsDir: String = "/etc/aios-net/goals.d"

    @Option(
        name: .customLong("goal-status-dir"),
        help: "Where NAME.status.json files are written (default: goals/ beside the control socket).")
    var goalStatusDir: String?

    @Option(name: .customLong("goal-resync"), help: "How often every goal is checked without an event, e.g. 5m.")
    var goalResync: String = "5m"

    @Flag(
        name: .customLong("boot"),
        help:
            "Apply the Connectivity goal (the goals directory's, else DHCP on every physical link) before telling systemd READY=1."
    )
    var boot = false

    @Option(name: .customLong("boot-timeout"), help: "How long --boot may take before READY=1 all the same, e.g. 60s.")
    var bootTimeout: String = "60s"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let redactor = Redactor()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(
                wrapping: StreamLogHandler.standardError(label: label), redactor: redactor)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "aios-net")
        var options = DaemonOptions(
            dataDirectory: dataDirectory.path,
            socketPath: socket ?? environment[ControlDefaults.socketVariable] ?? ControlDefaults.socketPath,
            policyPath: policy, controlGroup: controlGroup, managementSubnets: managementSubnets, labTools: labTools,
            environment: environment)
        options.dnsListen = dnsListen
        options.dnsUpstreams = dnsUpstreams
        options.hostsFile = hostsFile
        options.caFile = caFile
        guard ["off", "dhcp-only", "dhcp-then-fallback"].contains(autoConfigure) else {
            throw ValidationError("--auto-configure takes off, dhcp-only or dhcp-then-fallback")
        }
        options.autoConfigure = autoConfigure
        guard let timeout = try? DurationText.milliseconds(dhcpTimeout), (100...600_000).contains(timeout) else {
            throw ValidationError("--dhcp-timeout takes a duration between 100ms and 10m, e.g. 10s")
        }
        options.dhcpTimeoutMs = Int(timeout)
        guard FileManager.default.isReadableFile(atPath: resolvConf) || resolvConf == "/etc/resolv.conf" else {
            throw ValidationError("--resolv-conf \(resolvConf): no such readable file")
        }
        options.resolvConf = resolvConf
        guard let check = try? DurationText.milliseconds(wireguardCheck), (1000...3_600_000).contains(check) else {
            throw ValidationError("--wireguard-check takes a duration between 1s and 1h, e.g. 30s")
        }
        options.wireguardCheckMs = Int(check)
        options.goalsDirectory = goalsDir == "off" ? nil : goalsDir
        options.goalStatusDirectory = goalStatusDir
        guard let resync = try? DurationText.milliseconds(goalResync), (1000...86_400_000).contains(resync) else {
            throw ValidationError("--goal-resync takes a duration between 1s and 1d, e.g. 5m")
        }
        options.goalResyncMs = resync
        options.boot = boot
        guard let bootMs = try? DurationText.milliseconds(bootTimeout), (1000...600_000).contains(bootMs) else {
            throw ValidationError("--boot-timeout takes a duration between 1s and 10m, e.g. 60s")
        }
        options.bootTimeoutMs = bootMs
        try await Renderer(json: false).run {
            try await Daemon(options: options, redactor: redactor, logger: logger).run()
        }
    }
}
