import AiosTesting
import Foundation
import Testing

/// Topology:
///
/// ```
///   netns client: veth c0  10.60.0.2/24 (management) + 10.60.0.3/24 (not management)
///        │
///   netns server: veth s0  10.60.0.1/24   ← aios-net daemon, TCP listeners on 22 and 8080,
///                                           and tables `ip other` and `inet theirs` made with nft by the test
/// ```
@Suite("firewall.apply_default with real traffic", .serialized)
struct FirewallDefaultTests {
    struct Topology {
        var client: String
        var server: String
        var daemon: DaemonHarness
        /// Tables of others, made before the daemon started.
        var foreign: ForeignTables

        /// Whether the foreign tables are still byte-identical.
        var foreignUntouched: Bool { foreign.untouched }
    }

    static let listener = """
        import socket, selectors, sys
        sel = selectors.DefaultSelector()
        for port in (22, 8080):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(64); sel.register(s, selectors.EVENT_READ)
        print("listening", flush=True)
        while True:
            for key, _ in sel.select():
                conn, _ = key.fileobj.accept(); conn.close()
        """

    static func build(_ lab: Lab) throws -> Topology {
        let client = try lab.namespace("fwclient")
        let server = try lab.namespace("fwserver")
        try lab.ip(client, "link", "add", "c0", "type", "veth", "peer", "name", "s0", "netns", server)
        try lab.ip(client, "addr", "add", "10.60.0.2/24", "dev", "c0")
        try lab.ip(client, "addr", "add", "10.60.0.3/24", "dev", "c0")
        try lab.ip(server, "addr", "add", "10.60.0.1/24", "dev", "s0")
        try lab.ip(client, "link", "set", "c0", "up")
        try lab.ip(server, "link", "set", "s0", "up")
        let listening = try lab.spawn(["ip", "netns", "exec", server, "python3", "-c", listener], name: "listener")
        #expect(Poll.until(seconds: 10) { listening.stdout.contains("listening") })
        var topology = Topology(
            client: client, server: server, daemon: try DaemonHarness(lab: lab, namespace: server),
            foreign: try ForeignTables.make(in: server))
        try topology.daemon.start()
        return topology
    }

    /// A TCP connect from the client namespace with a chosen source address (1 s timeout).
    static func connects(_ topology: Topology, port: Int, from source: String) throws -> Bool {
        let script =
            "import socket,sys; socket.create_connection(('10.60.0.1', int(sys.argv[1])), timeout=1, source_address=(sys.argv[2], 0))"
        return try Shell.run(["ip", "netns", "exec", topology.client, "python3", "-c", script, "\(port)", source])
            .status == 0
    }

    static func status(_ daemon: DaemonHarness) throws -> [String: Any] {
        let (result, value) = try daemon.json(["call", "firewall.status"])
        #expect(result.status == 0, "\(result.stderr)")
        return ((value as? [String: Any])?["output"] as? [String: Any]) ?? [:]
    }

    static func applyAndConfirm(_ daemon: DaemonHarness, _ input: String) throws {
        let (result, value) = try daemon.json(["call", "firewall.apply_default", input, "--yes", "--window", "5m"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let id = ((value as? [String: Any])?["guard"] as? [String: Any])?["id"] as? String ?? "?"
        #expect(try daemon.cli(["guard", "confirm", id]).status == 0)
    }

    @Test("management port from the management subnet only; drift detected and repaired; other tables untouched")
    func defaultRuleset() async throws {
        try await Lab.with { lab in
            let topology = try Self.build(lab)
            let daemon = topology.daemon
            #expect(try Self.connects(topology, port: 8080, from: "10.60.0.3"))

            try Self.applyAndConfirm(daemon, #"{"management_subnets": ["10.60.0.2/32"]}"#)
            #expect(try Self.connects(topology, port: 22, from: "10.60.0.2"))
            #expect(try !Self.connects(topology, port: 22, from: "10.60.0.3"))
            #expect(try !Self.connects(topology, port: 8080, from: "10.60.0.2"))
            var status = try Self.status(daemon)
            #expect(status["present"] as? Bool == true)
            #expect(status["drift"] as? Bool == false)
            #expect(((status["drops"] as? [String: Any])?["input"] as? Int ?? 0) > 0)
            #expect(try daemon.cli(["call", "firewall.apply_default", "--yes"]).stdout.contains("unchanged"))

            // Someone deletes the management rule by hand: status sees the drift, apply_default repairs it.
            let listing = try Shell.check([
                "ip", "netns", "exec", topology.server, "nft", "-a", "list", "chain", "inet", "aios_firewall", "input",
            ])
            let line = try #require(listing.split(separator: "\n").first { $0.contains("in-management-v4") })
            let handle = String(line.split(separator: " ").last ?? "")
            try Shell.check([
                "ip", "netns", "exec", topology.server, "nft", "delete", "rule", "inet", "aios_firewall", "input",
                "handle", handle,
            ])
            #expect(try !Self.connects(topology, port: 22, from: "10.60.0.2"))
            status = try Self.status(daemon)
            #expect(status["drift"] as? Bool == true)
            #expect(status["missing_rules"] as? [String] == ["in-management-v4"])
            try Self.applyAndConfirm(daemon, "{}")
            #expect(try Self.connects(topology, port: 22, from: "10.60.0.2"))
            #expect(try Self.status(daemon)["drift"] as? Bool == false)

            var stopping = daemon
            #expect(topology.foreignUntouched, "another table changed")
            _ = stopping.stop()
        }
    }

    @Test("an unconfirmed apply_default rolls back at its deadline and traffic flows again")
    func unconfirmedRollsBack() async throws {
        try await Lab.with { lab in
            let topology = try Self.build(lab)
            let daemon = topology.daemon
            let result = try daemon.cli([
                "call", "firewall.apply_default", #"{"management_subnets": ["10.60.0.2/32"]}"#, "--yes", "--window",
                "2s",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("awaiting confirmation"))
            #expect(try !Self.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(Poll.until(seconds: 20) { (try? Self.connects(topology, port: 8080, from: "10.60.0.3")) == true })
            let status = try Self.status(daemon)
            #expect(status["present"] as? Bool == false)
            #expect(status["drift"] as? Bool == false)
            #expect(status["intended_subnets"] == nil)
            #expect(
                try daemon.events().contains {
                    $0["kind"] as? String == "guard.rolled_back" && $0["tool"] as? String == "firewall.apply_default"
                })
            var stopping = daemon
            #expect(topology.foreignUntouched, "another table changed")
            _ = stopping.stop()
        }
    }

    @Test("rolling back a change restores the previous table from its snapshot")
    func rollbackRestoresSnapshot() async throws {
        try await Lab.with { lab in
            let topology = try Self.build(lab)
            let daemon = topology.daemon
            try Self.applyAndConfirm(daemon, #"{"management_subnets": ["10.60.0.2/32"]}"#)
            let switched = try daemon.cli([
                "call", "firewall.apply_default", #"{"management_subnets": ["10.60.0.3/32"]}"#, "--yes", "--window",
                "2s",
            ])
            #expect(switched.status == 0, "\(switched.stderr)")
            #expect(try Self.connects(topology, port: 22, from: "10.60.0.3"))
            #expect(Poll.until(seconds: 20) { (try? Self.connects(topology, port: 22, from: "10.60.0.2")) == true })
            #expect(try !Self.connects(topology, port: 22, from: "10.60.0.3"))
            let status = try Self.status(daemon)
            #expect(status["management_subnets"] as? [String] == ["10.60.0.2/32"])
            #expect(status["intended_subnets"] as? [String] == ["10.60.0.2/32"])
            #expect(status["missing_rules"] as? [String] == [])
            #expect(status["drift"] as? Bool == false)
            var stopping = daemon
            #expect(topology.foreignUntouched, "another table changed")
            _ = stopping.stop()
        }
    }

    @Test(
        "bad input is refused with the field named and the ruleset left byte-identical",
        arguments: [
            (#"{"management_subnets": ["10.0.0.0/33"]}"#, "input.management_subnets[0]"),
            (#"{"management_subnets": ["300.1.1.1/24"]}"#, "input.management_subnets[0]"),
            (#"{"management_subnets": ["10.0.0.0/8"], "management_ports": [70000]}"#, "input.management_ports[0]"),
            (#"{"management_subnets": []}"#, "input.management_subnets"),
            ("{}", "input.management_subnets"),
        ])
    func badInput(input: String, field: String) async throws {
        try await Lab.with { lab in
            let topology = try Self.build(lab)
            let before = try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"])
            let result = try topology.daemon.cli(["call", "firewall.apply_default", input, "--yes"])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
            #expect(
                try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"]) == before)
            var stopping = topology.daemon
            #expect(topology.foreignUntouched, "another table changed")
            _ = stopping.stop()
        }
    }
}
