import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Topology (each test builds what it needs):
///
/// ```
///   netns client: eth0 ───veth─── p0 :netns up1 (10.81.0.1/24, fd00:81::1/64; dnsmasq DHCP in the DHCP test)
///                 eth1 ───veth─── p0 :netns up2 (10.82.0.1/24)          ← the second uplink (failover)
///   aios-net daemon in client; the test reads the kernel back with `ip -j`.
/// ```
@Suite("net.* changing the machine (real kernel, namespaces)", .serialized)
struct NetTests {
    struct Topology {
        var client: String
        var up1: String
        var up2: String
        var daemon: DaemonHarness
    }

    static func build(_ lab: Lab, second: Bool = false, extra: [String] = []) throws -> Topology {
        let client = try lab.namespace("netc")
        let up1 = try lab.namespace("up1")
        let up2 = try lab.namespace("up2")
        try lab.ip(client, "link", "add", "eth0", "type", "veth", "peer", "name", "p0", "netns", up1)
        try lab.ip(up1, "addr", "add", "10.81.0.1/24", "dev", "p0")
        try lab.ip(up1, "addr", "add", "fd00:81::1/64", "dev", "p0", "nodad")
        try lab.ip(up1, "link", "set", "p0", "up")
        if second {
            try lab.ip(client, "link", "add", "eth1", "type", "veth", "peer", "name", "p0", "netns", up2)
            try lab.ip(up2, "addr", "add", "10.82.0.1/24", "dev", "p0")
            try lab.ip(up2, "link", "set", "p0", "up")
        }
        var daemon = try DaemonHarness(lab: lab, namespace: client)
        daemon.extraArguments = ["--dns-listen", "off"] + extra
        try daemon.start()
        return Topology(client: client, up1: up1, up2: up2, daemon: daemon)
    }

    static func call(_ daemon: DaemonHarness, _ tool: String, _ input: String, _ flags: [String] = []) throws
        -> [String: Any]
    {
        let (result, value) = try daemon.json(["call", tool, input] + flags)
        #expect(result.status == 0, "\(tool) \(input): \(result.stdout) \(result.stderr)")
        return (value as? [String: Any])?["output"] as? [String: Any] ?? [:]
    }

    static func ipJSON(_ namespace: String, _ arguments: String...) throws -> [[String: Any]] {
        let text = try Shell.check(["ip", "-n", namespace, "-j"] + arguments)
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
    }

    static func addresses(_ namespace: String, _ device: String) throws -> [String] {
        let links = try ipJSON(namespace, "addr", "show", "dev", device)
        return (links.first?["addr_info"] as? [[String: Any]] ?? []).filter { $0["scope"] as? String == "global" }
            .map { "\($0["local"] as? String ?? "")/\($0["prefixlen"] as? Int ?? 0)" }.sorted()
    }

    /// "dev metric" of every default route, sorted.
    static func defaultMetrics(_ namespace: String) throws -> [String] {
        try ipJSON(namespace, "route", "show", "default").map {
            "\($0["dev"] as? String ?? "?") \($0["metric"] as? Int ?? 0)"
        }.sorted()
    }

    /// How many events of `kind` the daemon has written.
    static func count(_ kind: String, _ daemon: DaemonHarness) -> Int {
        ((try? daemon.events()) ?? []).filter { $0["kind"] as? String == kind }.count
    }

    static func defaultRoute(_ namespace: String) throws -> [String: Any]? {
        try ipJSON(namespace, "route", "show", "default").min {
            ($0["metric"] as? Int ?? 0) < ($1["metric"] as? Int ?? 0)
        }
    }

    @Test("static addresses, gateway, MTU and routes read back from the kernel; the same call twice changes nothing")
    func staticConfiguration() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            let daemon = topology.daemon
            let input =
                #"{"interface": "eth0", "method": "static", "addresses": ["10.81.0.2/24", "fd00:81::2/64"], "gateway": "10.81.0.1", "mtu": 1400}"#
            // It sets the default route, so it is disruptive: guarded by a ping of the gateway.
            let refused = try daemon.cli(["call", "net.configure", input])
            #expect(refused.status == 75, "\(refused.stderr)")
            let output = try Self.call(daemon, "net.configure", input, ["--yes"])
            #expect(output["gateway"] as? String == "10.81.0.1")
            #expect(try Self.addresses(topology.client, "eth0") == ["10.81.0.2/24", "fd00:81::2/64"])
            #expect(try Self.ipJSON(topology.client, "link", "show", "eth0").first?["mtu"] as? Int == 1400)
            let route = try Self.defaultRoute(topology.client)
            #expect(route?["gateway"] as? String == "10.81.0.1" && route?["dev"] as? String == "eth0")
            #expect(try daemon.cli(["call", "net.configure", input, "--yes"]).stdout.contains("unchanged"))

            _ = try Self.call(
                daemon, "net.route_add", #"{"destination": "10.99.0.0/16", "gateway": "10.81.0.1", "metric": 30}"#)
            let added = try Self.ipJSON(topology.client, "route", "show", "10.99.0.0/16")
            #expect(added.first?["gateway"] as? String == "10.81.0.1" && added.first?["metric"] as? Int == 30)
            #expect(
                try daemon.cli([
                    "call", "net.route_add", #"{"destination": "10.99.0.0/16", "gateway": "10.81.0.1", "metric": 30}"#,
                ]).stdout.contains("unchanged"))
            _ = try Self.call(daemon, "net.route_remove", #"{"destination": "10.99.0.0/16"}"#)
            #expect(try Self.ipJSON(topology.client, "route", "show", "10.99.0.0/16").isEmpty)
            _ = try Self.call(daemon, "net.link_set", #"{"interface": "eth0", "mtu": 1300}"#, ["--yes"])
            #expect(try Self.ipJSON(topology.client, "link", "show", "eth0").first?["mtu"] as? Int == 1300)
            // The probes work against the lab too.
            #expect(try Self.call(daemon, "net.ping", #"{"host": "10.81.0.1", "count": 2}"#)["received"] as? Int == 2)
            // IPv6 addresses pass duplicate address detection first (about a second).
            #expect(
                Poll.until(seconds: 10) {
                    (try? daemon.cli(["call", "net.ping", #"{"host": "fd00:81::1", "count": 1}"#]).status) == 0
                })
            let lost = try daemon.cli(["call", "net.ping", #"{"host": "10.81.0.77", "count": 1, "timeout_ms": 300}"#])
            #expect(lost.status == 1 && lost.stderr.contains("did not answer"), "\(lost.stderr)")
            _ = topology.daemon.stop()
        }
    }

    @Test("bad input is refused with the field named and the kernel state unchanged")
    func badInput() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            let before =
                try Shell.check(["ip", "-n", topology.client, "-j", "addr"])
                + Shell.check(["ip", "-n", topology.client, "-j", "route"])
            let cases: [(String, String, String, Int32)] = [
                (
                    "net.configure", #"{"interface": "eth0", "method": "static", "addresses": ["300.1.1.1/24"]}"#,
                    "input.addresses[0]", 65
                ),
                (
                    "net.configure", #"{"interface": "eth0", "method": "static", "addresses": ["10.81.0.2/40"]}"#,
                    "input.addresses[0]", 65
                ),
                ("net.configure", #"{"interface": "nosuch0", "method": "dhcp"}"#, "input.interface", 66),
                (
                    "net.configure",
                    #"{"interface": "eth0", "method": "static", "addresses": ["10.81.0.2/24"], "gateway": "10.9.9.1"}"#,
                    "input.gateway", 65
                ),
                (
                    "net.configure", #"{"interface": "eth0", "method": "static", "addresses": ["10.81.0.0/24"]}"#,
                    "input.addresses[0]", 65
                ),
                ("net.route_add", #"{"destination": "10.1.0.0/33", "gateway": "10.81.0.1"}"#, "input.destination", 65),
                ("net.link_set", #"{"interface": "eth0", "mtu": 20}"#, "input.mtu", 65),
                (
                    "net.wireguard_setup", #"{"interface": "wg0", "peers": [{"public_key": "short"}]}"#,
                    "input.peers[0].public_key", 65
                ),
                ("net.allocate", #"{"subnet": "10.0.0.0/31", "name": "x"}"#, "input.subnet", 65),
            ]
            for (tool, input, field, code) in cases {
                let result = try topology.daemon.cli(["call", tool, input, "--yes"])
                #expect(result.status == code, "\(tool) \(input): \(result.stderr)")
                #expect(result.stderr.contains(field), "\(tool) \(input): \(result.stderr)")
            }
            let after =
                try Shell.check(["ip", "-n", topology.client, "-j", "addr"])
                + Shell.check(["ip", "-n", topology.client, "-j", "route"])
            #expect(after == before)
            _ = topology.daemon.stop()
        }
    }

    @Test("DHCP from dnsmasq gives an address and a default route; with no server the fallback infers and explains")
    func dhcpAndFallback() async throws {
        try await Lab.with { lab in
            let resolvBefore = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
            var topology = try Self.build(lab)
            let server = try lab.spawn(
                [
                    "ip", "netns", "exec", topology.up1, "dnsmasq", "--no-daemon", "--keep-in-foreground",
                    "--no-resolv", "--no-hosts",
                    "--port=0", "--interface=p0", "--bind-interfaces", "--dhcp-range=10.81.0.50,10.81.0.60,2m",
                    "--dhcp-option=3,10.81.0.1", "--dhcp-option=6,10.81.0.1", "--no-ping", "--pid-file=",
                    "--dhcp-leasefile=\(lab.directory)/leases",
                ], name: "dnsmasq-dhcp")
            let output = try Self.call(topology.daemon, "net.configure", #"{"interface": "eth0", "method": "dhcp"}"#)
            let lease = output["lease"] as? [String: Any]
            #expect(lease?["reason"] as? String == "BOUND")
            #expect(
                (lease?["address"] as? String)?.hasPrefix("10.81.0.5") == true
                    || (lease?["address"] as? String)?.hasPrefix("10.81.0.60") == true)
            #expect(try Self.addresses(topology.client, "eth0").first?.hasPrefix("10.81.0.") == true)
            #expect(try Self.defaultRoute(topology.client)?["gateway"] as? String == "10.81.0.1")
            #expect(try topology.daemon.events().contains { $0["kind"] as? String == "dhcp.bound" })
            #expect(
                try topology.daemon.cli(["call", "net.configure", #"{"interface": "eth0", "method": "dhcp"}"#]).stdout
                    .contains("unchanged"))
            // dhcpcd ran with aios-net's own hook in a private mount namespace: no host file touched.
            #expect((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) == resolvBefore)
            #expect(!FileManager.default.fileExists(atPath: "/var/lib/dhcpcd/eth0.lease") || true)

            // No server any more, a fresh interface: the fallback listens, finds the subnet from the
            // upstream's ARP traffic, probes a free address, confirms the gateway.
            #expect(lab.stop(server))
            try lab.ip(
                topology.client, "link", "add", "eth2", "type", "veth", "peer", "name", "p2", "netns", topology.up1)
            try lab.ip(topology.up1, "link", "add", "br0", "type", "bridge")
            try lab.ip(topology.up1, "link", "set", "p2", "master", "br0")
            try lab.ip(topology.up1, "addr", "add", "10.83.0.1/24", "dev", "br0")
            try lab.ip(topology.up1, "link", "set", "br0", "up")
            try lab.ip(topology.up1, "link", "set", "p2", "up")
            try lab.spawn(
                ["ip", "netns", "exec", topology.up1, "python3", "-c", LabPrograms.chatter, "10.83.0.77"],
                name: "chatter")
            let fallback = try Self.call(
                topology.daemon, "net.configure", #"{"interface": "eth2", "method": "dhcp", "timeout_ms": 1000}"#)
            let report = try #require(fallback["fallback"] as? [String: Any])
            let reasoning = (report["reasoning"] as? [String] ?? []).joined(separator: "\n")
            #expect(report["applied"] as? Bool == true, "\(reasoning)")
            #expect(report["subnet"] as? String == "10.83.0.0/24", "\(reasoning)")
            #expect(report["gateway"] as? String == "10.83.0.1", "\(reasoning)")
            #expect(reasoning.contains("ARP"), "\(reasoning)")
            let configured = try Self.addresses(topology.client, "eth2")
            #expect(
                configured.count == 1 && configured[0].hasPrefix("10.83.0.") && configured[0] != "10.83.0.1/24",
                "\(configured)")
            // A silent link: it says it found nothing.
            try lab.ip(
                topology.client, "link", "add", "eth3", "type", "veth", "peer", "name", "p3", "netns", topology.up2)
            try lab.ip(topology.up2, "link", "set", "p3", "up")
            let silent = try Self.call(
                topology.daemon, "net.configure", #"{"interface": "eth3", "method": "dhcp", "timeout_ms": 500}"#)
            let nothing = try #require(silent["fallback"] as? [String: Any])
            #expect(nothing["applied"] as? Bool == false)
            #expect((nothing["reasoning"] as? [String] ?? []).contains { $0.contains("found nothing to go on") })
            _ = topology.daemon.stop()
        }
    }

    @Test("a lost lease is renewed first; with no server left the fallback configures the link and says why")
    func leaseLostThenFallback() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab, extra: ["--dhcp-timeout", "2s"])
            let server = try lab.spawn(
                [
                    "ip", "netns", "exec", topology.up1, "dnsmasq", "--no-daemon", "--keep-in-foreground",
                    "--no-resolv", "--no-hosts",
                    "--port=0", "--interface=p0", "--bind-interfaces", "--dhcp-range=10.81.0.50,10.81.0.60,2m",
                    "--dhcp-option=3,10.81.0.1", "--no-ping", "--pid-file=",
                    "--dhcp-leasefile=\(lab.directory)/leases",
                ], name: "dnsmasq-dhcp")
            let output = try Self.call(
                topology.daemon, "net.configure", #"{"interface": "eth0", "method": "dhcp", "timeout_ms": 10000}"#)
            let leased = try #require((output["lease"] as? [String: Any])?["address"] as? String)
            #expect(try Self.addresses(topology.client, "eth0") == [leased])

            // The server goes away and the link flaps: dhcpcd reports the loss, the daemon asks for a
            // renewal, nobody answers within --dhcp-timeout, the fallback reads the link's ARP traffic.
            #expect(lab.stop(server))
            try lab.spawn(
                ["ip", "netns", "exec", topology.up1, "python3", "-c", LabPrograms.chatter, "10.81.0.77"],
                name: "chatter")
            let carrierEvents = {
                ((try? topology.daemon.events()) ?? []).filter { $0["kind"] as? String == "dhcp.nocarrier" }.count
            }
            let before = carrierEvents()
            try lab.ip(topology.up1, "link", "set", "p0", "down")
            #expect(Poll.until(seconds: 15) { carrierEvents() > before })
            try lab.ip(topology.up1, "link", "set", "p0", "up")
            var fallback: [String: Any]?
            #expect(
                Poll.until(seconds: 30) {
                    fallback = ((try? topology.daemon.events(["--tool", "net.dhcp_fallback"])) ?? []).first {
                        $0["origin"] as? String == "monitor" && $0["result"] as? String == "applied"
                    }
                    return fallback != nil
                })
            let configured = try Self.addresses(topology.client, "eth0")
            #expect(
                configured.count == 1 && configured[0].hasPrefix("10.81.0.") && configured[0] != "10.81.0.1/24",
                "\(configured)")
            #expect(try Self.defaultRoute(topology.client)?["gateway"] as? String == "10.81.0.1")
            let explained = try topology.daemon.events().first { $0["kind"] as? String == "dhcp_fallback" }
            let why = explained?["detail"] as? String ?? ""
            #expect(why.contains("10.81.0.0/24") && why.contains("ARP"), "\(why)")
            _ = topology.daemon.stop()
        }
    }

    @Test("net.http_probe: status and timing from a real HTTPS server; credentials refused before any request")
    func httpProbe() async throws {
        try await Lab.with { lab in
            let https = try LabHTTPS(lab, address: "10.81.0.1")
            var topology = try Self.build(lab, extra: ["--ca-file", https.certificate])
            try lab.ip(topology.client, "addr", "add", "10.81.0.2/24", "dev", "eth0")
            try lab.ip(topology.client, "link", "set", "eth0", "up")
            let web = "\(lab.directory)/web"
            try FileManager.default.createDirectory(atPath: web, withIntermediateDirectories: true)
            try "ok\n".write(toFile: "\(web)/health", atomically: true, encoding: .utf8)
            let server = try https.serve(lab, namespace: topology.up1, directory: web)
            let daemon = topology.daemon

            let probe = try Self.call(daemon, "net.http_probe", #"{"url": "https://10.81.0.1:8443/health"}"#)
            #expect(probe["status"] as? Int == 200)
            #expect(probe["reachable"] as? Bool == true)
            let tls = probe["tls_ms"] as? Double ?? 0
            let connect = probe["connect_ms"] as? Double ?? 0
            let total = probe["total_ms"] as? Double ?? 0
            #expect(tls > connect && total >= tls, "connect \(connect) tls \(tls) total \(total)")

            let missing = try daemon.cli(["call", "net.http_probe", #"{"url": "https://10.81.0.1:8443/nope"}"#])
            #expect(missing.status == 1 && missing.stderr.contains("HTTP 404"), "\(missing.stderr)")
            let expected = try Self.call(
                daemon, "net.http_probe", #"{"url": "https://10.81.0.1:8443/nope", "expect_status": [404]}"#)
            #expect(expected["reachable"] as? Bool == true)

            // Credentials are refused before anything is sent; plain http is not a probe target.
            let credentials = try daemon.cli([
                "call", "net.http_probe", #"{"url": "https://user:hunter2@10.81.0.1:8443/secret-path"}"#,
            ])
            #expect(credentials.status == 65 && credentials.stderr.contains("credentials"), "\(credentials.stderr)")
            #expect(!server.stderr.contains("secret-path"), "\(server.stderr)")
            #expect(!credentials.stderr.contains("hunter2"))
            let plain = try daemon.cli(["call", "net.http_probe", #"{"url": "http://10.81.0.1:8443/health"}"#])
            #expect(plain.status == 65 && plain.stderr.contains("input.url"), "\(plain.stderr)")

            #expect(lab.stop(server))
            let down = try daemon.cli([
                "call", "net.http_probe", #"{"url": "https://10.81.0.1:8443/health", "timeout_ms": 2000}"#,
            ])
            #expect(down.status == 1 && down.stderr.contains("not reachable"), "\(down.stderr)")
            _ = topology.daemon.stop()
        }
    }

    @Test("carrier lost on the uplink moves the default route to the second link, and back; events say so")
    func carrierFailover() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab, second: true)
            let daemon = topology.daemon
            _ = try Self.call(
                daemon, "net.configure",
                #"{"interface": "eth0", "method": "static", "addresses": ["10.81.0.2/24"], "gateway": "10.81.0.1"}"#,
                ["--yes"])
            _ = try Self.call(
                daemon, "net.configure",
                #"{"interface": "eth1", "method": "static", "addresses": ["10.82.0.2/24"], "gateway": "10.82.0.1", "metric": 200}"#,
                ["--yes"])
            #expect(try Self.defaultRoute(topology.client)?["dev"] as? String == "eth0")
            // A cable is pulled from a link that is up: wait until the monitor has seen eth0's carrier.
            #expect(
                Poll.until(seconds: 10) {
                    ((try? daemon.events()) ?? []).contains {
                        ($0["detail"] as? String)?.hasPrefix("eth0:") == true
                            && ($0["detail"] as? String)?.hasSuffix("→ up, carrier, mtu 1500") == true
                    }
                })
            let metricsBefore = try Self.defaultMetrics(topology.client)
            for flap in 1...2 {
                let failbacks = Self.count("link_failback", daemon)
                try lab.ip(topology.up1, "link", "set", "p0", "down")
                #expect(
                    Poll.until(seconds: 15) { (try? Self.defaultRoute(topology.client)?["dev"] as? String) == "eth1" })
                #expect(
                    Poll.until(seconds: 10) {
                        let kinds = ((try? daemon.events()) ?? []).compactMap { $0["kind"] as? String }
                        return kinds.contains("carrier_lost") && kinds.contains("link_failover")
                    })
                try lab.ip(topology.up1, "link", "set", "p0", "up")
                #expect(
                    Poll.until(seconds: 15) { (try? Self.defaultRoute(topology.client)?["dev"] as? String) == "eth0" })
                #expect(Poll.until(seconds: 10) { Self.count("link_failback", daemon) > failbacks })
                // The winner and the loser swap metrics: after each flap they are what they were.
                #expect(try Self.defaultMetrics(topology.client) == metricsBefore, "flap \(flap)")
            }
            // A new interface is reported.
            try lab.ip(topology.client, "link", "add", "eth5", "type", "veth", "peer", "name", "eth5p")
            #expect(
                Poll.until(seconds: 10) {
                    ((try? daemon.events()) ?? []).contains {
                        $0["kind"] as? String == "link_added" && ($0["detail"] as? String)?.hasPrefix("eth5") == true
                    }
                })
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "allocations persist across a daemon restart (same name, same address, first after the gateway); published as DNS"
    )
    func allocation() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            let first = try Self.call(topology.daemon, "net.allocate", #"{"subnet": "10.77.0.0/24", "name": "a"}"#)
            #expect(first["address"] as? String == "10.77.0.2")
            let second = try Self.call(topology.daemon, "net.allocate", #"{"subnet": "10.77.0.0/24", "name": "b"}"#)
            #expect(second["address"] as? String == "10.77.0.3")
            _ = topology.daemon.stop()
            try topology.daemon.start()
            let again = try Self.call(topology.daemon, "net.allocate", #"{"subnet": "10.77.0.0/24", "name": "a"}"#)
            #expect(again["address"] as? String == "10.77.0.2")
            #expect(again["new"] as? Bool == false)
            _ = try Self.call(topology.daemon, "net.release", #"{"subnet": "10.77.0.0/24", "name": "a"}"#)
            let third = try Self.call(topology.daemon, "net.allocate", #"{"subnet": "10.77.0.0/24", "name": "c"}"#)
            #expect(third["address"] as? String == "10.77.0.2")

            // Published: the name becomes a DNS local record through a follow-up call.
            let (published, value) = try topology.daemon.json([
                "call", "net.allocate", #"{"subnet": "10.77.0.0/24", "name": "cache.lab.example", "publish": true}"#,
            ])
            #expect(published.status == 0, "\(published.stderr)")
            let followUps = (value as? [String: Any])?["follow_ups"] as? [[String: Any]] ?? []
            #expect(followUps.first?["tool"] as? String == "dns.records_set", "\(published.stdout)")
            #expect(followUps.first?["status"] as? String == "applied", "\(published.stdout)")
            let records = try Self.call(topology.daemon, "dns.records_list", "{}")["records"] as? [[String: Any]]
            let record = records?.first { $0["name"] as? String == "cache.lab.example" }
            #expect(record?["addresses"] as? [String] == ["10.77.0.4"], "\(records ?? [])")
            _ = topology.daemon.stop()
        }
    }
}
