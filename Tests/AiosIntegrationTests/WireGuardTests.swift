import AiosTesting
import Foundation
import Testing

/// Topology:
///
/// ```
///   netns wga: a0 10.90.0.1/24 ─veth─ b0 10.90.0.2/24 :netns wgb
///              wg0 10.44.0.1/24 ═════ tunnel ═════ wg0 10.44.0.2/24
///   an aios-net daemon in each; every interface name carries the test's PID
///   (`Self.interface`): wireguard-go's sockets live in /run/wireguard, which every namespace
///   shares (so `wg show` finds them), and two tunnels of one name would collide there
///
///   mesh: netns m1, m2, m3, each with a veth to a bridge in netns sw (192.168.77.1-3/24), and
///   wg-mesh 10.99.0.1-3/24 built from one node list.
/// ```
@Suite("WireGuard through wireguard-go and its UAPI (real tunnels between namespaces)", .serialized)
struct WireGuardTests {
    /// A WireGuard interface name no other test run, nor the host, uses: `wg<role><pid>`.
    static func interface(_ role: String) -> String { "wg\(role)\(getpid() % 100_000)" }

    static func call(_ daemon: DaemonHarness, _ tool: String, _ input: String) throws -> (
        output: [String: Any], text: String
    ) {
        let (result, value) = try daemon.json(["call", tool, input])
        #expect(result.status == 0, "\(tool) \(input): \(result.stdout) \(result.stderr)")
        return ((value as? [String: Any])?["output"] as? [String: Any] ?? [:], result.stdout + result.stderr)
    }

    static func daemon(_ lab: Lab, _ namespace: String) throws -> DaemonHarness {
        var daemon = try DaemonHarness(lab: lab, namespace: namespace)
        daemon.extraArguments = ["--dns-listen", "off"]
        try daemon.start()
        return daemon
    }

    /// Two namespaces joined by a veth pair: `<network>.1/24` on the first, `.2/24` on the second.
    static func linked(_ lab: Lab, _ names: (String, String), links: (String, String), network: String) throws
        -> (String, String)
    {
        let a = try lab.namespace(names.0)
        let b = try lab.namespace(names.1)
        try lab.ip(a, "link", "add", links.0, "type", "veth", "peer", "name", links.1, "netns", b)
        try lab.ip(a, "addr", "add", "\(network).1/24", "dev", links.0)
        try lab.ip(b, "addr", "add", "\(network).2/24", "dev", links.1)
        try lab.ip(a, "link", "set", links.0, "up")
        try lab.ip(b, "link", "set", links.1, "up")
        return (a, b)
    }

    @Test(
        "two nodes: a tunnel that pings, a recent handshake in status, and private keys in no log, event, output or database"
    )
    func tunnel() async throws {
        try await Lab.with { lab in
            let (a, b) = try Self.linked(lab, ("wga", "wgb"), links: ("a0", "b0"), network: "10.90.0")
            var daemonA = try Self.daemon(lab, a)
            var daemonB = try Self.daemon(lab, b)
            var transcript = ""
            let setupA = try Self.call(
                daemonA, "net.wireguard_setup",
                #"{"interface": "\#(Self.interface("a"))", "listen_port": 51820, "address": "10.44.0.1/24"}"#)
            let setupB = try Self.call(
                daemonB, "net.wireguard_setup",
                #"{"interface": "\#(Self.interface("b"))", "listen_port": 51820, "address": "10.44.0.2/24"}"#)
            transcript += setupA.text + setupB.text
            let keyA = try #require(setupA.output["public_key"] as? String)
            let keyB = try #require(setupB.output["public_key"] as? String)
            #expect(keyA != keyB && keyA.count == 44)
            #expect(setupA.output["backend"] as? String == "wireguard-go")
            transcript += try Self.call(
                daemonA, "net.wireguard_peer_add",
                #"{"interface": "\#(Self.interface("a"))", "peer": {"public_key": "\#(keyB)", "endpoint": "10.90.0.2:51820", "allowed_ips": "10.44.0.2/32"}}"#
            ).text
            transcript += try Self.call(
                daemonB, "net.wireguard_peer_add",
                #"{"interface": "\#(Self.interface("b"))", "peer": {"public_key": "\#(keyA)", "endpoint": "10.90.0.1:51820", "allowed_ips": ["10.44.0.1/32"]}}"#
            ).text
            #expect(
                Poll.until(seconds: 15) {
                    (try? daemonA.cli(["call", "net.ping", #"{"host": "10.44.0.2", "count": 1, "timeout_ms": 500}"#])
                        .status) == 0
                })
            let status = try Self.call(daemonA, "net.wireguard_status", #"{"interface": "\#(Self.interface("a"))"}"#)
            transcript += status.text
            let peer = ((status.output["interfaces"] as? [[String: Any]])?.first?["peers"] as? [[String: Any]])?.first
            #expect(peer?["public_key"] as? String == keyB)
            #expect((peer?["latest_handshake_age_s"] as? Int).map { $0 <= 30 } == true, "\(peer ?? [:])")
            #expect((peer?["rx_bytes"] as? Int ?? 0) > 0)
            // The same setup twice changes nothing.
            #expect(
                try daemonA.cli([
                    "call", "net.wireguard_setup",
                    #"{"interface": "\#(Self.interface("a"))", "listen_port": 51820, "address": "10.44.0.1/24", "peers": [{"public_key": "\#(keyB)", "endpoint": "10.90.0.2:51820", "allowed_ips": ["10.44.0.2/32"]}]}"#,
                ]).stdout.contains("unchanged"))

            // `wg` finds the tunnel where it looks (/run/wireguard), from the daemon's namespace.
            let shown = try Shell.run(["ip", "netns", "exec", a, "wg", "show", Self.interface("a")])
            #expect(
                shown.status == 0 && shown.stdout.contains("listening port: 51820"), "\(shown.stdout) \(shown.stderr)")
            // A name another namespace's wireguard-go serves is refused, not hidden.
            let taken = try daemonB.cli([
                "call", "net.wireguard_setup", #"{"interface": "\#(Self.interface("a"))", "listen_port": 51821}"#,
            ])
            #expect(taken.status == 65 && taken.stderr.contains("served by another wireguard-go"), "\(taken.stderr)")

            // Secret scan: the private keys (base64 and hex) appear nowhere but in their 0600 files.
            for (daemon, name) in [(daemonA, Self.interface("a")), (daemonB, Self.interface("b"))] {
                let path = "\(daemon.dataDirectory)/wireguard/\(name).key"
                let info = try FileManager.default.attributesOfItem(atPath: path)
                #expect((info[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                let key = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                let hex = Data(base64Encoded: key)!.map { String(format: "%02x", $0) }.joined()
                let events = try daemon.cli(["events", "--limit", "500", "--json"]).stdout
                let database = String(
                    decoding: try Data(contentsOf: URL(fileURLWithPath: "\(daemon.dataDirectory)/aios-net.sqlite")),
                    as: UTF8.self)
                let wal =
                    (try? Data(contentsOf: URL(fileURLWithPath: "\(daemon.dataDirectory)/aios-net.sqlite-wal"))).map {
                        String(decoding: $0, as: UTF8.self)
                    } ?? ""
                let logs = daemon.process?.stderr ?? ""
                for (place, text) in [
                    ("events", events), ("database", database + wal), ("daemon log", logs), ("CLI output", transcript),
                ] {
                    #expect(!text.contains(key) && !text.contains(hex), "the private key leaked into the \(place)")
                }
            }
            _ = daemonA.stop()
            _ = daemonB.stop()
        }
    }

    /// Children of `pid` that are zombies (exited, never waited for).
    static func zombies(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] == "Z" && fields[1] == "\(pid)"
        }
    }

    @Test(
        "a removed peer takes its routes; a removed interface takes its key and leaves no zombie; under the default firewall the tunnel still handshakes"
    )
    func removalAndFirewall() async throws {
        try await Lab.with { lab in
            let (a, b) = try Self.linked(lab, ("wgf", "wgg"), links: ("f0", "g0"), network: "10.92.0")
            var daemonA = try Self.daemon(lab, a)
            var daemonB = try Self.daemon(lab, b)
            for (daemon, subnet) in [(daemonA, "10.92.0.1/32"), (daemonB, "10.92.0.2/32")] {
                try FirewallDefaultTests.applyAndConfirm(daemon, #"{"management_subnets": ["\#(subnet)"]}"#)
            }
            let (nameA, nameB) = (Self.interface("f"), Self.interface("g"))
            let keyA = try #require(
                try Self.call(
                    daemonA, "net.wireguard_setup",
                    #"{"interface": "\#(nameA)", "listen_port": 51840, "address": "10.46.0.1/24"}"#
                ).output["public_key"] as? String)
            let keyB = try #require(
                try Self.call(
                    daemonB, "net.wireguard_setup",
                    #"{"interface": "\#(nameB)", "listen_port": 51840, "address": "10.46.0.2/24"}"#
                ).output["public_key"] as? String)
            let added = try Self.call(
                daemonA, "net.wireguard_peer_add",
                #"{"interface": "\#(nameA)", "peer": {"public_key": "\#(keyB)", "endpoint": "10.92.0.2:51840", "allowed_ips": ["10.46.0.2/32", "10.56.0.0/24"], "keepalive": 1}}"#
            )
            #expect(added.text.contains("firewall.allow"), "the firewall follow-up is reported: \(added.text)")
            _ = try Self.call(
                daemonB, "net.wireguard_peer_add",
                #"{"interface": "\#(nameB)", "peer": {"public_key": "\#(keyA)", "endpoint": "10.92.0.1:51840", "allowed_ips": "10.46.0.1/32", "keepalive": 1}}"#
            )
            func handshake() -> Int? {
                let status = try? Self.call(daemonA, "net.wireguard_status", #"{"interface": "\#(nameA)"}"#)
                let peers = (status?.output["interfaces"] as? [[String: Any]])?.first?["peers"] as? [[String: Any]]
                return peers?.first?["latest_handshake_age_s"] as? Int
            }
            #expect(
                Poll.until(seconds: 20) { handshake().map { $0 <= 30 } == true }, "no handshake through the firewall")
            let route = { try Shell.check(["ip", "-n", a, "route", "show", "10.56.0.0/24"]) }
            #expect(try route().contains(nameA))

            _ = try Self.call(
                daemonA, "net.wireguard_peer_remove", #"{"interface": "\#(nameA)", "public_key": "\#(keyB)"}"#)
            #expect(try route().isEmpty, "the removed peer's route is gone")

            let pid = try #require(daemonA.process?.pid)
            _ = try Self.call(daemonA, "net.wireguard_remove", #"{"interface": "\#(nameA)"}"#)
            #expect(!FileManager.default.fileExists(atPath: "\(daemonA.dataDirectory)/wireguard/\(nameA).key"))
            // Any child left a zombie past a few seconds was never waited for (a helper another
            // part of the daemon restarts may be a zombie for a moment).
            let names = {
                Self.zombies(of: pid).map { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "?" }
            }
            #expect(Poll.until(seconds: 5) { Self.zombies(of: pid).isEmpty }, "never waited for: \(names())")
            let again = try Self.call(
                daemonA, "net.wireguard_setup", #"{"interface": "\#(nameA)", "listen_port": 51840}"#)
            #expect(again.output["public_key"] as? String != keyA, "a new interface of the name gets a new key")
            _ = daemonA.stop()
            _ = daemonB.stop()
        }
    }

    /// A fresh WireGuard public key (`wg genkey | wg pubkey`).
    static func publicKey() throws -> String {
        let key = try Shell.check(["wg", "genkey"])
        let derived = try Shell.run(["wg", "pubkey"], stdin: key)
        #expect(derived.status == 0, "\(derived.stderr)")
        return derived.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "endpoint names: a peer without a fresh handshake is re-resolved when its name moves, once per change; a peer with a fresh handshake keeps its endpoint; a literal endpoint is left alone"
    )
    func staleEndpointReresolved() async throws {
        try await Lab.with { lab in
            let (a, b) = try Self.linked(lab, ("wgr", "wgs"), links: ("r0", "s0"), network: "10.91.0")
            // Names from a hosts file dnsmasq reads again on SIGHUP, on a's own loopback, named by
            // a's daemon in its own resolver file (never the host's). `live` is b; `gone` is no one.
            let hosts = "\(lab.directory)/wg-hosts"
            func names(live: String, gone: String) throws {
                try "\(live) live.lab.example\n\(gone) gone.lab.example\n".write(
                    toFile: hosts, atomically: true, encoding: .utf8)
            }
            try names(live: "10.91.0.2", gone: "10.91.0.7")
            let queryLog = "\(lab.directory)/wg-dns.log"
            let dns = try lab.spawn(
                [
                    "ip", "netns", "exec", a, "dnsmasq", "--no-daemon", "--keep-in-foreground", "--no-resolv",
                    "--no-hosts", "--addn-hosts=\(hosts)", "--listen-address=127.0.0.1", "--bind-interfaces",
                    "--port=53", "--pid-file=", "--log-queries", "--log-facility=\(queryLog)",
                    "--dhcp-leasefile=\(lab.directory)/wg-dns.leases",
                ], name: "wg-dns")
            let log = { (try? String(contentsOfFile: queryLog, encoding: .utf8)) ?? "" }
            #expect(Poll.until(seconds: 10) { log().contains("started") }, "\(dns.stderr)")
            let queries = { (name: String) in log().components(separatedBy: "query[A] \(name)").count - 1 }
            let resolv = "\(lab.directory)/wg-resolv.conf"
            try "nameserver 127.0.0.1\n".write(toFile: resolv, atomically: true, encoding: .utf8)
            var daemonA = try DaemonHarness(lab: lab, namespace: a)
            daemonA.extraArguments = ["--dns-listen", "off", "--resolv-conf", resolv, "--wireguard-check", "1s"]
            try daemonA.start()
            var daemonB = try Self.daemon(lab, b)

            let keyA = try #require(
                try Self.call(
                    daemonA, "net.wireguard_setup",
                    #"{"interface": "\#(Self.interface("r"))", "listen_port": 51830, "address": "10.45.0.1/24"}"#
                ).output["public_key"] as? String)
            let keyB = try #require(
                try Self.call(
                    daemonB, "net.wireguard_setup",
                    #"{"interface": "\#(Self.interface("s"))", "listen_port": 51830, "address": "10.45.0.2/24"}"#
                ).output["public_key"] as? String)
            let gone = try Self.publicKey()
            let literal = try Self.publicKey()
            for peer in [
                #"{"public_key": "\#(keyB)", "endpoint": "live.lab.example:51830", "allowed_ips": "10.45.0.2/32", "keepalive": 1}"#,
                #"{"public_key": "\#(gone)", "endpoint": "gone.lab.example:51820", "allowed_ips": "10.45.0.3/32"}"#,
                #"{"public_key": "\#(literal)", "endpoint": "10.91.0.9:51820", "allowed_ips": "10.45.0.4/32"}"#,
            ] {
                _ = try Self.call(
                    daemonA, "net.wireguard_peer_add", #"{"interface": "\#(Self.interface("r"))", "peer": \#(peer)}"#)
            }
            _ = try Self.call(
                daemonB, "net.wireguard_peer_add",
                #"{"interface": "\#(Self.interface("s"))", "peer": {"public_key": "\#(keyA)", "endpoint": "10.91.0.1:51830", "allowed_ips": "10.45.0.1/32"}}"#
            )
            func endpoints() -> [String: String] {
                let status = try? Self.call(
                    daemonA, "net.wireguard_status", #"{"interface": "\#(Self.interface("r"))"}"#)
                let interfaces = status?.output["interfaces"] as? [[String: Any]]
                let peers = interfaces?.first?["peers"] as? [[String: Any]] ?? []
                var found: [String: String] = [:]
                for peer in peers {
                    if let key = peer["public_key"] as? String { found[key] = peer["endpoint"] as? String }
                }
                return found
            }
            func updates() -> [String] {
                ((try? daemonA.events()) ?? []).filter { $0["kind"] as? String == "wireguard.endpoint_updated" }
                    .compactMap { $0["detail"] as? String }
            }
            let ping = #"{"host": "10.45.0.2", "count": 1, "timeout_ms": 500}"#
            #expect(Poll.until(seconds: 15) { (try? daemonA.cli(["call", "net.ping", ping]).status) == 0 })
            #expect(endpoints()[keyB] == "10.91.0.2:51830" && endpoints()[gone] == "10.91.0.7:51820", "\(endpoints())")

            // Both names move. The watcher (every second) sets gone's new address; the tunnel to b
            // has a fresh handshake, so its endpoint stays (its name is not even looked up).
            try names(live: "10.91.0.5", gone: "10.91.0.8")
            kill(dns.pid, SIGHUP)
            #expect(Poll.until(seconds: 20) { endpoints()[gone] == "10.91.0.8:51820" }, "\(endpoints())")
            // Three more checks: gone's name is where it is, so no more updates, and b's endpoint stays.
            let seen = queries("gone.lab.example")
            #expect(Poll.until(seconds: 20) { queries("gone.lab.example") >= seen + 3 }, "the watcher keeps checking")
            var written = updates()
            #expect(written.count == 1, "\(written)")
            #expect(written.first?.contains("gone.lab.example:51820 now 10.91.0.8:51820") == true, "\(written)")
            #expect(endpoints()[keyB] == "10.91.0.2:51830", "a fresh handshake keeps its endpoint: \(endpoints())")
            #expect((try? daemonA.cli(["call", "net.ping", ping]).status) == 0)

            // And back: a second change, a second update.
            try names(live: "10.91.0.5", gone: "10.91.0.7")
            kill(dns.pid, SIGHUP)
            #expect(Poll.until(seconds: 20) { endpoints()[gone] == "10.91.0.7:51820" }, "\(endpoints())")
            written = updates()
            #expect(written.count == 2 && written.first?.contains("now 10.91.0.7:51820") == true, "\(written)")
            #expect(endpoints()[literal] == "10.91.0.9:51820", "a literal endpoint is never re-resolved")
            _ = daemonA.stop()
            _ = daemonB.stop()
        }
    }

    @Test("a three-node mesh from one node list reaches every node; adding a node adds one peer")
    func mesh() async throws {
        try await Lab.with { lab in
            let switchNS = try lab.namespace("sw")
            try lab.ip(switchNS, "link", "add", "br0", "type", "bridge")
            try lab.ip(switchNS, "link", "set", "br0", "up")
            var nodes: [(name: String, namespace: String, daemon: DaemonHarness, underlay: String, mesh: String)] = []
            for index in 1...3 {
                let namespace = try lab.namespace("m\(index)")
                try lab.ip(
                    namespace, "link", "add", "e0", "type", "veth", "peer", "name", "s\(index)", "netns", switchNS)
                try lab.ip(switchNS, "link", "set", "s\(index)", "master", "br0")
                try lab.ip(switchNS, "link", "set", "s\(index)", "up")
                try lab.ip(namespace, "addr", "add", "192.168.77.\(index)/24", "dev", "e0")
                try lab.ip(namespace, "link", "set", "e0", "up")
                nodes.append(
                    ("m\(index)", namespace, try Self.daemon(lab, namespace), "192.168.77.\(index)", "10.99.0.\(index)")
                )
            }
            // Each node learns its own key from a mesh of itself.
            var keys: [String: String] = [:]
            for node in nodes {
                let output = try Self.call(
                    node.daemon, "net.wireguard_mesh",
                    #"{"interface": "\#(Self.interface(node.name))", "listen_port": 51900, "self": "\#(node.name)", "nodes": [{"name": "\#(node.name)", "address": "\#(node.mesh)/24"}]}"#
                ).output
                keys[node.name] = output["public_key"] as? String
            }
            func list(
                _ members: ArraySlice<
                    (name: String, namespace: String, daemon: DaemonHarness, underlay: String, mesh: String)
                >
            ) -> String {
                members.map {
                    #"{"name": "\#($0.name)", "public_key": "\#(keys[$0.name] ?? "")", "endpoint": "\#($0.underlay):51900", "address": "\#($0.mesh)/24"}"#
                }.joined(separator: ", ")
            }
            for node in nodes.prefix(2) {
                let output = try Self.call(
                    node.daemon, "net.wireguard_mesh",
                    #"{"interface": "\#(Self.interface(node.name))", "listen_port": 51900, "self": "\#(node.name)", "nodes": [\#(list(nodes.prefix(2)))]}"#
                ).output
                #expect(output["peers"] as? Int == 1)
            }
            for node in nodes {
                let output = try Self.call(
                    node.daemon, "net.wireguard_mesh",
                    #"{"interface": "\#(Self.interface(node.name))", "listen_port": 51900, "self": "\#(node.name)", "nodes": [\#(list(nodes[...]))]}"#
                ).output
                #expect(output["peers"] as? Int == 2)
            }
            for from in nodes {
                for to in nodes where to.name != from.name {
                    #expect(
                        Poll.until(seconds: 15) {
                            (try? from.daemon.cli([
                                "call", "net.ping", #"{"host": "\#(to.mesh)", "count": 1, "timeout_ms": 500}"#,
                            ]).status) == 0
                        }, "\(from.name) → \(to.name)")
                }
            }
            for var node in nodes { _ = node.daemon.stop() }
        }
    }
}
