import AiosTesting
import Foundation
import Testing

/// Topology:
///
/// ```
///   netns w1: eth0 10.88.0.2 ─┐
///   netns w2: eth0 10.88.0.3 ─┤ br-aios 10.88.0.1  [netns host: aios-net daemon]
///                                                    up0 198.51.100.1/24
///                                                     │
///   netns internet: in0 198.51.100.2/24, listeners 22 80 443 8080 (answer with the peer address they saw),
///                   a route to 10.88.0.0/24 via the host (to try unsolicited inbound)
/// ```
/// The veths of w1/w2 are made by aios-net (`firewall.sandbox_attach`), not by the test.
@Suite("firewall.sandbox_* with real traffic", .serialized)
struct SandboxTests {
    struct Topology {
        var host: String
        var internet: String
        var w1: String
        var w2: String
        var daemon: DaemonHarness
        /// Tables of others in the host namespace.
        var foreign: ForeignTables
    }

    static func build(_ lab: Lab) throws -> Topology {
        let host = try lab.namespace("sbhost")
        let internet = try lab.namespace("sbnet")
        let w1 = try lab.namespace("w1")
        let w2 = try lab.namespace("w2")
        try lab.ip(host, "link", "add", "up0", "type", "veth", "peer", "name", "in0", "netns", internet)
        try lab.ip(host, "addr", "add", "198.51.100.1/24", "dev", "up0")
        try lab.ip(internet, "addr", "add", "198.51.100.2/24", "dev", "in0")
        try lab.ip(host, "link", "set", "up0", "up")
        try lab.ip(internet, "link", "set", "in0", "up")
        try lab.ip(internet, "route", "add", "10.88.0.0/24", "via", "198.51.100.1")
        try Traffic.listen(lab, in: internet, ports: [22, 80, 443, 8080])
        let foreign = try ForeignTables.make(in: host)
        var daemon = try DaemonHarness(lab: lab, namespace: host)
        try daemon.start()
        return Topology(host: host, internet: internet, w1: w1, w2: w2, daemon: daemon, foreign: foreign)
    }

    static func call(_ daemon: DaemonHarness, _ tool: String, _ input: String) throws -> [String: Any] {
        let (result, value) = try daemon.json(["call", tool, input])
        #expect(result.status == 0, "\(tool) \(input): \(result.stdout) \(result.stderr)")
        return value as? [String: Any] ?? [:]
    }

    static func list(_ daemon: DaemonHarness) throws -> [String: Any] {
        try call(daemon, "firewall.sandbox_list", "{}")["output"] as? [String: Any] ?? [:]
    }

    @Test("nat-filtered: 443 out works (masqueraded), 8080 does not, no unsolicited inbound, no workload-to-workload")
    func natFiltered() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            let daemon = topology.daemon
            let otherBefore = try Shell.check(["ip", "netns", "exec", topology.host, "nft", "list", "ruleset"])
            _ = try Self.call(daemon, "firewall.sandbox_create", "{}")
            let attached = try Self.call(
                daemon, "firewall.sandbox_attach", #"{"workload": "w1", "namespace": "\#(topology.w1)"}"#)
            #expect((attached["output"] as? [String: Any])?["address"] as? String == "10.88.0.2")
            _ = try Self.call(daemon, "firewall.sandbox_attach", #"{"workload": "w2", "namespace": "\#(topology.w2)"}"#)
            try Traffic.listen(lab, in: topology.w2, ports: [9000])
            try Traffic.listen(lab, in: topology.w1, ports: [9000])

            // Egress: allowed ports reach the "internet" from the host's uplink address (masquerade).
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443) == "198.51.100.1")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 22) == "198.51.100.1")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 8080) == nil)
            // No unsolicited inbound, no workload-to-workload.
            #expect(try Traffic.connect(from: topology.internet, to: "10.88.0.2", port: 9000) == nil)
            #expect(try Traffic.connect(from: topology.w1, to: "10.88.0.3", port: 9000) == nil)
            #expect(try Traffic.connect(from: topology.w2, to: "10.88.0.2", port: 9000) == nil)
            // A spoofed source address is dropped at the bridge port.
            try lab.ip(topology.w1, "addr", "add", "10.88.0.50/24", "dev", "eth0")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443, source: "10.88.0.50") == nil)

            let listing = try Self.list(daemon)
            #expect((listing["connections_logged"] as? Int ?? 0) >= 2)
            #expect((listing["dropped"] as? Int ?? 0) > 0)
            let sandboxes = listing["sandboxes"] as? [[String: Any]] ?? []
            #expect(sandboxes.first?["bridge"] as? String == "br-aios")
            #expect((sandboxes.first?["workloads"] as? [Any])?.count == 2)
            // The same calls again change nothing.
            #expect(
                try daemon.cli([
                    "call", "firewall.sandbox_attach", #"{"workload": "w1", "namespace": "\#(topology.w1)"}"#,
                ])
                .stdout.contains("unchanged"))
            #expect(try daemon.cli(["call", "firewall.sandbox_create", "{}"]).stdout.contains("unchanged"))

            // Removing the sandbox takes its bridge, veths and tables; other tables are untouched.
            _ = try Self.call(daemon, "firewall.sandbox_remove", "{}")
            let links = try Shell.check(["ip", "-n", topology.host, "-o", "link"])
            #expect(!links.contains("br-aios") && !links.contains("vsb"))
            #expect(try !Shell.check(["ip", "-n", topology.w1, "-o", "link"]).contains("eth0"))
            #expect(try Shell.check(["ip", "netns", "exec", topology.host, "nft", "list", "ruleset"]) == otherBefore)
            #expect(topology.foreign.untouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "profiles: isolated reaches nothing, custom only its allow list, host-loopback only the host, none no interface"
    )
    func profiles() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            let daemon = topology.daemon
            _ = try Self.call(daemon, "firewall.sandbox_create", #"{"profile": "isolated"}"#)
            try Traffic.listen(lab, in: topology.host, ports: [7000], address: "10.88.0.1")
            _ = try Self.call(daemon, "firewall.sandbox_attach", #"{"workload": "w1", "namespace": "\#(topology.w1)"}"#)
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443) == nil)
            #expect(try Traffic.connect(from: topology.w1, to: "10.88.0.1", port: 7000) == nil)

            _ = try Self.call(
                daemon, "firewall.sandbox_attach",
                #"{"workload": "w1", "namespace": "\#(topology.w1)", "profile": "custom", "allow": [{"port": 8080, "destination": "198.51.100.2"}]}"#
            )
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 8080) == "198.51.100.1")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443) == nil)

            _ = try Self.call(
                daemon, "firewall.sandbox_attach",
                #"{"workload": "w1", "namespace": "\#(topology.w1)", "profile": "host-loopback"}"#)
            #expect(try Traffic.connect(from: topology.w1, to: "10.88.0.1", port: 7000) == "10.88.0.2")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 8080) == nil)

            let none = try Self.call(daemon, "firewall.sandbox_attach", #"{"workload": "w2", "profile": "none"}"#)
            #expect((none["output"] as? [String: Any])?["address"] == nil)
            #expect(try !Shell.check(["ip", "-n", topology.w2, "-o", "link"]).contains("eth0"))

            let detached = try Self.call(daemon, "firewall.sandbox_detach", #"{"workload": "w1"}"#)
            #expect((detached["output"] as? [String: Any])?["detached"] as? Bool == true)
            #expect(try !Shell.check(["ip", "-n", topology.w1, "-o", "link"]).contains("eth0"))
            #expect(topology.foreign.untouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test("with the default ruleset applied sandbox traffic still follows its profile; tables come back after a reboot")
    func withDefaultRulesetAndReboot() async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            try FirewallDefaultTests.applyAndConfirm(topology.daemon, #"{"management_subnets": ["198.51.100.2/32"]}"#)
            _ = try Self.call(topology.daemon, "firewall.sandbox_create", "{}")
            _ = try Self.call(
                topology.daemon, "firewall.sandbox_attach", #"{"workload": "w1", "namespace": "\#(topology.w1)"}"#)
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443) == "198.51.100.1")
            #expect(try Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 8080) == nil)

            // "Reboot": the tables and the bridge are gone (the workload's veth goes with the bridge's port).
            let stopped = topology.daemon.stop()
            #expect(stopped)
            for family in ["inet", "bridge"] {
                try Shell.check([
                    "ip", "netns", "exec", topology.host, "nft", "delete", "table", family, "aios_sandbox",
                ])
            }
            try lab.ip(topology.host, "link", "del", "br-aios")
            try topology.daemon.start()
            let listing = try Self.list(topology.daemon)
            #expect(listing["tables_present"] as? Bool == true)
            let sandbox = (listing["sandboxes"] as? [[String: Any]])?.first
            #expect(sandbox?["bridge_present"] as? Bool == true)
            // The workload kept its veth (only the bridge went); start-up put the port back on the new bridge.
            #expect(
                try topology.daemon.cli([
                    "call", "firewall.sandbox_attach", #"{"workload": "w1", "namespace": "\#(topology.w1)"}"#,
                ]).stdout.contains("unchanged"))
            #expect(
                Poll.until(seconds: 5) {
                    (try? Traffic.connect(from: topology.w1, to: "198.51.100.2", port: 443)) == "198.51.100.1"
                })
            #expect(topology.foreign.untouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "bad input is refused with the field named and nothing changed",
        arguments: [
            ("firewall.sandbox_create", #"{"subnet": "10.88.0.0/33"}"#, "input.subnet"),
            ("firewall.sandbox_create", #"{"subnet": "fd00::/64"}"#, "input.subnet"),
            ("firewall.sandbox_create", #"{"subnet": "198.51.100.0/24"}"#, "input.subnet"),
            ("firewall.sandbox_create", #"{"profile": "open"}"#, "input.profile"),
            ("firewall.sandbox_attach", #"{"workload": "x", "namespace": "no-such-ns"}"#, "input.namespace"),
            ("firewall.sandbox_attach", #"{"workload": "x", "profile": "custom"}"#, "input.allow"),
            (
                "firewall.sandbox_attach",
                #"{"workload": "x", "profile": "custom", "namespace": "x", "allow": [{"port": 70000}]}"#,
                "input.allow[0].port"
            ),
        ])
    func badInput(tool: String, input: String, field: String) async throws {
        try await Lab.with { lab in
            var topology = try Self.build(lab)
            if tool == "firewall.sandbox_attach" { _ = try Self.call(topology.daemon, "firewall.sandbox_create", "{}") }
            let before = try Shell.check(["ip", "netns", "exec", topology.host, "nft", "-s", "list", "ruleset"])
            let links = try Shell.check(["ip", "-n", topology.host, "-o", "link"])
            let result = try topology.daemon.cli(["call", tool, input])
            #expect(result.status == 65 || result.status == 66, "\(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
            #expect(try Shell.check(["ip", "netns", "exec", topology.host, "nft", "-s", "list", "ruleset"]) == before)
            #expect(try Shell.check(["ip", "-n", topology.host, "-o", "link"]) == links)
            #expect(topology.foreign.untouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }
}
