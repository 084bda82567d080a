import AiosLinux
import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `aios-net boot` in a lab of namespaces:
///
/// ```
///   netns client: eth0 ──veth── p0 ┐ netns up1: br0 10.81.0.1/24, dnsmasq (DHCP, DNS for gw.lab.example)
///                 eth2 ──veth── p2 ┘            (p2 is brought up late: eth2 gets carrier during the boot)
///                 eth1 ──veth── p1   netns up2: 10.82.0.1/24, no DHCP server, a host asking for .77
///   aios-net daemon in client (--resolv-conf a lab file naming 10.81.0.1; managed resolver off).
/// ```
@Suite("aios-net boot (real kernel, dnsmasq, dhcpcd, nft)", .serialized)
struct BootTests {
    struct Topology {
        var client: String
        var up1: String
        var up2: String
        var resolvConf: String
        var daemon: DaemonHarness
    }

    static let goal = """
        kind: Connectivity
        name: boot
        spec:
          links: {use: ["eth*"]}
          dhcp_timeout: 4s
          fallback: true
          management_subnets: [10.81.0.0/24]
          checks: {gateway_ping: true, dns: gw.lab.example}

        """

    static func build(_ lab: Lab, lateCarrier: Bool = true, resolver: Bool = false, daemonArguments: [String] = [])
        throws -> Topology
    {
        let client = try lab.namespace("bootc")
        let up1 = try lab.namespace("bootu1")
        let up2 = try lab.namespace("bootu2")
        try lab.ip(up1, "link", "add", "br0", "type", "bridge")
        try lab.ip(up1, "addr", "add", "10.81.0.1/24", "dev", "br0")
        try lab.ip(up1, "link", "set", "br0", "up")
        for (inside, outside) in [("eth0", "p0"), ("eth2", "p2")] {
            try lab.ip(client, "link", "add", inside, "type", "veth", "peer", "name", outside, "netns", up1)
            try lab.ip(up1, "link", "set", outside, "master", "br0")
        }
        try lab.ip(up1, "link", "set", "p0", "up")
        try lab.ip(client, "link", "add", "eth1", "type", "veth", "peer", "name", "p1", "netns", up2)
        try lab.ip(up2, "addr", "add", "10.82.0.1/24", "dev", "p1")
        try lab.ip(up2, "link", "set", "p1", "up")
        try lab.spawn(
            [
                "ip", "netns", "exec", up1, "dnsmasq", "--no-daemon", "--keep-in-foreground", "--no-resolv",
                "--no-hosts", "--interface=br0", "--bind-interfaces", "--dhcp-range=10.81.0.50,10.81.0.90,2m",
                "--dhcp-option=3,10.81.0.1", "--dhcp-option=6,10.81.0.1", "--no-ping", "--pid-file=",
                "--host-record=gw.lab.example,10.81.0.1", "--dhcp-leasefile=\(lab.directory)/boot-leases",
            ], name: "dnsmasq-boot")
        try lab.spawn(
            ["ip", "netns", "exec", up2, "python3", "-c", LabPrograms.chatter, "10.82.0.77"], name: "chatter")
        if lateCarrier {
            // The scenario: eth2's far end comes up a moment into the boot.
            try lab.spawn(["sh", "-c", "sleep 0.4; exec ip -n \(up1) link set p2 up"], name: "late-carrier")
        }
        let resolvConf = "\(lab.directory)/resolv.conf"
        try "nameserver 10.81.0.1\n".write(toFile: resolvConf, atomically: true, encoding: .utf8)
        var daemon = try DaemonHarness(lab: lab, namespace: client)
        daemon.extraArguments =
            (resolver ? ["--dns-listen", "127.0.0.1:53"] : ["--dns-listen", "off"]) + ["--resolv-conf", resolvConf]
            + daemonArguments
        try FileManager.default.createDirectory(atPath: daemon.goalsDirectory, withIntermediateDirectories: true)
        try goal.write(toFile: "\(daemon.goalsDirectory)/connectivity.yaml", atomically: true, encoding: .utf8)
        return Topology(client: client, up1: up1, up2: up2, resolvConf: resolvConf, daemon: daemon)
    }

    /// Writes a goal file `NAME.yaml` in the lab directory; its path.
    static func goalFile(_ lab: Lab, _ name: String, _ text: String) throws -> String {
        let path = "\(lab.directory)/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func boot(_ topology: Topology) throws -> (Shell.Result, [String: Any]) {
        let (result, value) = try topology.daemon.json(["boot", "--timeout", "30s"])
        return (result, value as? [String: Any] ?? [:])
    }

    static func link(_ report: [String: Any], _ name: String) -> [String: Any] {
        (report["links"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name } ?? [:]
    }

    @Test(
        "one uplink with DHCP, one without (the fallback), one that gets carrier late: all configured, checks pass; twice changes nothing"
    )
    func bootLab() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            try topology.daemon.start()
            let resolvBefore = try String(contentsOfFile: topology.resolvConf, encoding: .utf8)
            let (result, report) = try Self.boot(topology)
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(report["ok"] as? Bool == true, "\(result.stdout)")
            #expect(report["changed"] as? Bool == true)
            #expect((report["total_ms"] as? Int ?? 0) > 0)

            let eth0 = Self.link(report, "eth0")
            #expect(eth0["method"] as? String == "dhcp", "\(eth0)")
            #expect((eth0["addresses"] as? [String])?.first?.hasPrefix("10.81.0.") == true, "\(eth0)")
            let eth1 = Self.link(report, "eth1")
            #expect(eth1["method"] as? String == "fallback", "\(eth1)")
            #expect((eth1["addresses"] as? [String])?.first?.hasPrefix("10.82.0.") == true, "\(eth1)")
            #expect((eth1["reason"] as? String)?.contains("no DHCP offer") == true, "\(eth1)")
            // The fallback picked the right gateway, and it answers through eth1.
            #expect((eth1["reason"] as? String)?.contains("gateway 10.82.0.1") == true, "\(eth1)")
            let pinged = try NetTests.call(topology.daemon, "net.ping", #"{"host": "10.82.0.1", "count": 1}"#)
            #expect(pinged["received"] as? Int == 1, "\(pinged)")
            let eth2 = Self.link(report, "eth2")
            #expect(eth2["carrier"] as? Bool == true, "\(eth2)")
            #expect(eth2["method"] as? String == "dhcp", "\(eth2)")
            // The kernel agrees.
            #expect(try NetTests.addresses(topology.client, "eth0").first?.hasPrefix("10.81.0.") == true)
            #expect(try NetTests.addresses(topology.client, "eth1").first?.hasPrefix("10.82.0.") == true)
            #expect(try NetTests.addresses(topology.client, "eth2").first?.hasPrefix("10.81.0.") == true)
            let route = report["default_route"] as? [String: Any]
            #expect(["eth0", "eth1", "eth2"].contains(route?["interface"] as? String ?? ""), "\(report)")
            let kernelRoutes = try Shell.check(["ip", "-n", topology.client, "route"])
            #expect(
                try NetTests.defaultRoute(topology.client)?["dev"] as? String == route?["interface"] as? String,
                "\(kernelRoutes) \(report)")
            #expect((report["failover"] as? [Any])?.isEmpty == false, "\(report)")
            // The default firewall is in force, guarded by the gateway ping.
            _ = try Shell.check([
                "ip", "netns", "exec", topology.client, "nft", "list", "table", "inet", "aios_firewall",
            ])
            #expect((report["firewall"] as? [String: Any])?["ok"] as? Bool == true, "\(report)")
            let checks = report["checks"] as? [[String: Any]] ?? []
            #expect(checks.map { $0["name"] as? String ?? "" } == ["gateway_ping", "dns"])
            #expect(checks.allSatisfy { $0["ok"] as? Bool == true }, "\(checks)")
            // With the managed resolver off, resolv.conf is left alone.
            #expect(try String(contentsOfFile: topology.resolvConf, encoding: .utf8) == resolvBefore)
            // The report is an audit event.
            #expect(try topology.daemon.events().contains { $0["kind"] as? String == "boot.report" })

            // Twice: nothing changes, and it says so.
            let (again, second) = try Self.boot(topology)
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            #expect(second["changed"] as? Bool == false, "\(again.stdout)")
            #expect(second["ok"] as? Bool == true)
            let text = try topology.daemon.cli(["boot"])
            #expect(text.status == 0 && text.stdout.contains("nothing changed"), "\(text.stdout)")
            #expect(text.stdout.contains("eth1: fallback"), "\(text.stdout)")
            _ = topology.daemon.stop()
        }
    }

    @Test("a failed check exits 1 and the report names it with the facts; bad goal files are refused with their place")
    func bootFailure() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab, lateCarrier: false)
            try topology.daemon.start()
            let goal = try Self.goalFile(
                lab, "unreachable",
                """
                kind: Connectivity
                name: boot
                spec: {links: {use: [eth1]}, dhcp_timeout: 1s, fallback: false, checks: {dns: nowhere.invalid}}

                """)
            let (result, value) = try topology.daemon.json(["boot", "--goal", goal])
            let report = value as? [String: Any] ?? [:]
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect(report["ok"] as? Bool == false)
            #expect((report["problems"] as? [String])?.isEmpty == false, "\(report)")
            #expect(report["facts"] as? [String: Any] != nil)
            let eth1 = Self.link(report, "eth1")
            #expect(eth1["addresses"] as? [String] == [], "\(eth1)")

            let bad = "\(lab.directory)/bad.yaml"
            try "kind: Connectivity\nname: boot\nspec: {dhcp_timeout: forever}\n".write(
                toFile: bad, atomically: true, encoding: .utf8)
            let refused = try topology.daemon.cli(["boot", "--goal", bad])
            #expect(refused.status == 65, "\(refused.stderr)")
            #expect(refused.stderr.contains("bad.yaml") && refused.stderr.contains("dhcp_timeout"), "\(refused.stderr)")
            _ = topology.daemon.stop()
        }
    }

    @Test("a default firewall that would cut off a check rolls back by itself; the check then passes")
    func firewallLockout() async throws {
        try await Lab.with { lab in
            // The site listens on 8443: the default firewall lets only 53/443 out.
            let site = try LabHTTPS(lab, address: "10.81.0.1")
            var topology = try Self.build(lab, lateCarrier: false, daemonArguments: ["--ca-file", site.certificate])
            try FileManager.default.createDirectory(atPath: "\(lab.directory)/site", withIntermediateDirectories: true)
            _ = try site.serve(lab, namespace: topology.up1, directory: "\(lab.directory)/site")
            try topology.daemon.start()
            let goal = try Self.goalFile(
                lab, "lockout",
                """
                kind: Connectivity
                name: boot
                spec:
                  links: {use: [eth0]}
                  management_subnets: [10.81.0.0/24]
                  checks: {https: "https://10.81.0.1:8443/"}

                """)
            let (result, value) = try topology.daemon.json(["boot", "--goal", goal])
            let report = value as? [String: Any] ?? [:]
            let firewall = report["firewall"] as? [String: Any] ?? [:]
            #expect(firewall["ok"] as? Bool == false, "\(report)")
            #expect((firewall["detail"] as? String)?.contains("rolled back") == true, "\(firewall)")
            // Rolled back: no aios-net table, and the site answers.
            let tables = try Shell.check(["ip", "netns", "exec", topology.client, "nft", "list", "tables"])
            #expect(!tables.contains("aios_firewall"), "\(tables)")
            let checks = report["checks"] as? [[String: Any]] ?? []
            #expect(checks.first { $0["name"] as? String == "https" }?["ok"] as? Bool == true, "\(checks)")
            // The firewall's failure is a problem: boot says so and exits 1.
            #expect(result.status == 1, "\(result.stdout)")
            #expect((report["problems"] as? [String])?.contains { $0.hasPrefix("firewall:") } == true)
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "upstreams: one that only speaks DoT (unbound, a lab CA), one dead; resolv.conf points at the managed resolver")
    func resolverUpstreams() async throws {
        try await Lab.with { lab in
            // The DoT upstream: unbound in up1 on 10.81.0.1:853 with a certificate for dot.lab.example.
            let key = "\(lab.directory)/dot-key.pem"
            let certificate = "\(lab.directory)/dot-cert.pem"
            try Shell.check([
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=dot.lab.example",
                "-addext", "subjectAltName=DNS:dot.lab.example,IP:10.81.0.1", "-keyout", key, "-out", certificate,
            ])
            var topology = try Self.build(
                lab, lateCarrier: false, resolver: true, daemonArguments: ["--ca-file", certificate])
            let config = "\(lab.directory)/dot-unbound.conf"
            try """
            server:
                interface: 10.81.0.1@853
                tls-service-key: "\(key)"
                tls-service-pem: "\(certificate)"
                do-udp: no
                access-control: 0.0.0.0/0 allow
                chroot: ""
                username: ""
                directory: "\(lab.directory)"
                pidfile: ""
                use-syslog: no
                do-not-query-localhost: yes
                local-zone: "lab.example." static
                local-data: "gw.lab.example. 300 IN A 10.81.0.1"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let dot = try lab.spawn(
                ["ip", "netns", "exec", topology.up1, "unbound", "-d", "-c", config], name: "dot-upstream")
            try topology.daemon.start()
            #expect(
                Poll.until(seconds: 10) { dot.stderr.contains("start of service") || !Lab.alive(dot.pid) },
                "\(dot.stderr)")
            let goal = try Self.goalFile(
                lab, "dot",
                """
                kind: Connectivity
                name: boot
                spec:
                  links: {use: [eth0]}
                  upstreams: ["10.81.0.99#dot.lab.example", "10.81.0.1#dot.lab.example"]
                  checks: {dns: gw.lab.example}

                """)
            let (result, value) = try topology.daemon.json(["boot", "--goal", goal])
            let report = value as? [String: Any] ?? [:]
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            let resolver = report["resolver"] as? [String: Any] ?? [:]
            let resolverLog =
                (try? String(contentsOfFile: "\(topology.daemon.dataDirectory)/dns/unbound.log", encoding: .utf8)) ?? ""
            #expect(resolver["ok"] as? Bool == true, "\(resolver) resolver: \(resolverLog.suffix(2000))")
            #expect((resolver["output"] as? [String: Any])?["nameserver"] as? String == "127.0.0.1", "\(resolver)")
            // resolv.conf names the managed resolver now; its previous content is kept beside it.
            let written = try String(contentsOfFile: topology.resolvConf, encoding: .utf8)
            #expect(written.contains("nameserver 127.0.0.1") && !written.contains("10.81.0.1"), "\(written)")
            #expect(
                try String(contentsOfFile: topology.resolvConf + ".aios-net.orig", encoding: .utf8)
                    == "nameserver 10.81.0.1\n")
            // The name came through the DoT upstream (the only one that answers), over TLS.
            let check = (report["checks"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "dns" }
            #expect(check?["ok"] as? Bool == true, "\(report)")
            let status = try topology.daemon.json(["call", "dns.status"]).1 as? [String: Any]
            let output = status?["output"] as? [String: Any] ?? [:]
            #expect(output["tls"] as? Bool == true, "\(output)")
            // The dead one is reported as such; the live one answers.
            let upstreams = output["upstreams"] as? [[String: Any]] ?? []
            let dead = upstreams.first { ($0["address"] as? String)?.hasPrefix("10.81.0.99") == true }
            let live = upstreams.first { ($0["address"] as? String)?.hasPrefix("10.81.0.1") == true }
            #expect(dead?["reachable"] as? Bool == false && live?["reachable"] as? Bool == true, "\(upstreams)")
            // Twice: nothing changes.
            let (_, again) = try topology.daemon.json(["boot", "--goal", goal])
            #expect((again as? [String: Any])?["changed"] as? Bool == false, "\(String(describing: again))")
            _ = topology.daemon.stop()
        }
    }

    /// The dhcpcd manager processes in network namespace `namespace`, by interface (dhcpcd
    /// retitles itself `dhcpcd: eth0 [ip4]`; its proxies say `[privileged proxy]` and so on).
    static func dhcpClients(in namespace: String) -> [String] {
        func inode(_ path: String) -> UInt? {
            var info = stat()
            return stat(path, &info) == 0 ? UInt(info.st_ino) : nil
        }
        guard let target = inode("/run/netns/\(namespace)") else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard Int32(entry) != nil, inode("/proc/\(entry)/ns/net") == target,
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let title = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self).split(separator: " ")
            guard title.count == 3, title[0] == "dhcpcd:", title[2] == "[ip4]" else { return nil }
            return String(title[1])
        }.sorted()
    }

    @Test("kill -9 of the daemon in the middle of a boot: after the restart boot completes, nothing duplicated")
    func killedMidBoot() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab, lateCarrier: false)
            try topology.daemon.start()
            // The fallback link keeps the boot busy for seconds after eth0's lease is in.
            let booting = try lab.spawn(
                [topology.daemon.binary, "boot", "--socket", topology.daemon.socket, "--json"], name: "boot-killed")
            #expect(
                Poll.until(seconds: 30) {
                    (try? NetTests.addresses(topology.client, "eth0").first?.hasPrefix("10.81.0.")) == true
                })
            #expect(Lab.alive(booting.pid), "the boot ended before the kill: \(booting.stderr)")
            let killed = topology.daemon.stop(signal: SIGKILL)
            #expect(killed)
            try topology.daemon.start()
            let (result, report) = try Self.boot(topology)
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(report["ok"] as? Bool == true)
            #expect(Self.link(report, "eth1")["method"] as? String == "fallback", "\(report)")
            // One dhcpcd per link (adopted, not started twice), one address and one default
            // route each, one firewall table.
            let clients = Self.dhcpClients(in: topology.client)
            #expect(Set(clients).count == clients.count && Set(["eth0", "eth1"]).isSubset(of: clients), "\(clients)")
            for device in ["eth0", "eth1"] {
                #expect(try NetTests.addresses(topology.client, device).count == 1, "\(device)")
                let defaults = try NetTests.ipJSON(topology.client, "route", "show", "default", "dev", device)
                #expect(defaults.count == 1, "\(device): \(defaults)")
            }
            let tables = try Shell.check(["ip", "netns", "exec", topology.client, "nft", "list", "tables"])
            #expect(tables.components(separatedBy: "aios_firewall").count == 2, "\(tables)")
            _ = lab.stop(booting)
            _ = topology.daemon.stop()
        }
    }

    @Test("daemon --boot under systemd's protocol: STATUS lines, READY=1 after the boot goal, WATCHDOG=1 periodically")
    func systemdNotify() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab, lateCarrier: false, daemonArguments: ["--boot"])
            let socketPath = "\(lab.directory)/notify.sock"
            let fd = try UnixDatagram.bind(path: socketPath)
            defer { close(fd) }
            try topology.daemon.start(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"])
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline,
                messages.filter({ $0 == "WATCHDOG=1" }).count < 3
                    || !messages.contains(where: { $0.hasPrefix("READY=1") })
            {
                if let bytes = try UnixDatagram.receive(fd, timeoutMs: 1000) {
                    messages.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            let ready = try #require(messages.firstIndex { $0.hasPrefix("READY=1") }, "\(messages)")
            #expect(messages[..<ready].contains { $0.hasPrefix("STATUS=booting") }, "\(messages)")
            #expect(messages[ready].contains("STATUS=connected"), "\(messages)")
            #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(messages)")
            // READY came after the boot: its report is recorded, and the links are configured.
            #expect(try topology.daemon.events().contains { $0["kind"] as? String == "boot.report" })
            #expect(try NetTests.addresses(topology.client, "eth0").first?.hasPrefix("10.81.0.") == true)
            _ = topology.daemon.stop()
        }
    }

    @Test("daemon --boot: a boot longer than --boot-timeout sends READY=1 at the timeout and goes on")
    func bootTimeout() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(
                lab, lateCarrier: false, daemonArguments: ["--boot", "--boot-timeout", "1s"])
            let socketPath = "\(lab.directory)/notify.sock"
            let fd = try UnixDatagram.bind(path: socketPath)
            defer { close(fd) }
            try topology.daemon.start(environment: ["NOTIFY_SOCKET": socketPath])
            var ready: String?
            let deadline = Date().addingTimeInterval(30)
            while ready == nil, Date() < deadline {
                if let bytes = try UnixDatagram.receive(fd, timeoutMs: 1000) {
                    let message = String(decoding: bytes, as: UTF8.self)
                    if message.hasPrefix("READY=1") { ready = message }
                }
            }
            // The fallback link alone needs 4 s of DHCP: READY came first, and the boot finished after.
            #expect(ready?.contains("boot still running") == true, "\(ready ?? "no READY=1")")
            #expect(try !topology.daemon.events().contains { $0["kind"] as? String == "boot.report" })
            #expect(
                Poll.until(seconds: 30) {
                    (try? topology.daemon.events().contains { $0["kind"] as? String == "boot.report" }) == true
                })
            _ = topology.daemon.stop()
        }
    }

    @Test("the example unit passes systemd-analyze verify")
    func unitVerifies() throws {
        let unit = try String(contentsOfFile: "Examples/aios-net.service", encoding: .utf8)
        #expect(unit.contains("WatchdogSec=") && unit.contains("Type=notify") && unit.contains("--boot"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-unit-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/aios-net.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/aios-net", with: BuiltBinary.path())
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Shell.run(["systemd-analyze", "verify", path])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(!result.stderr.contains("aios-net.service"), "\(result.stderr)")
    }
}
