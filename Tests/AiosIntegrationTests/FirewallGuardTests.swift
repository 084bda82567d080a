import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The firewall topology plus a listener on 443 in the client namespace: the management path the
/// guard probes is "server → 10.60.0.2:443" (allowed out by the default ruleset). A deny of exactly
/// that path touches the management subnet, so it is disruptive and guarded.
@Suite("firewall changes under the guard", .serialized)
struct FirewallGuardTests {
    typealias F = FirewallDefaultTests

    static func prepared(_ lab: Lab) throws -> F.Topology {
        let topology = try FirewallEntryTests.prepared(lab)
        let listener = try lab.spawn(
            [
                "ip", "netns", "exec", topology.client, "python3", "-c",
                F.listener.replacingOccurrences(of: "(22, 8080)", with: "(443,)"),
            ],
            name: "client-listener")
        #expect(Poll.until(seconds: 10) { listener.stdout.contains("listening") })
        #expect(try probePasses(topology.daemon))
        return topology
    }

    static let deny = #"{"chain": "output", "protocol": "tcp", "port": 443, "destination": "10.60.0.2"}"#
    static let probe = [
        "--probe", "net.tcp_probe", "--probe-input", #"{"host": "10.60.0.2", "port": 443, "timeout_ms": 300}"#,
    ]

    static func probePasses(_ daemon: DaemonHarness) throws -> Bool {
        try daemon.cli(["call", "net.tcp_probe", #"{"host": "10.60.0.2", "port": 443, "timeout_ms": 500}"#]).status == 0
    }

    static func activeRules(_ daemon: DaemonHarness) throws -> Int {
        let value = try daemon.json(["call", "firewall.list"]).1 as? [String: Any]
        return ((value?["output"] as? [String: Any])?["rules"] as? [Any])?.count ?? -1
    }

    @Test("a deny that cuts the management probe needs --yes and is rolled back when the probe fails")
    func denyCuttingProbeRollsBack() async throws {
        try await Lab.with { lab in
            let topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let unconfirmed = try daemon.cli(["call", "firewall.deny", Self.deny])
            #expect(unconfirmed.status == 75, "\(unconfirmed.stderr)")
            #expect(unconfirmed.stderr.contains("can cut connectivity"))
            let result = try daemon.cli(["call", "firewall.deny", Self.deny, "--yes", "--window", "3s"] + Self.probe)
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("rolled back"))
            #expect(try Self.probePasses(daemon))
            #expect(try Self.activeRules(daemon) == 0)
            #expect(
                try daemon.events().contains {
                    $0["kind"] as? String == "guard.rolled_back" && $0["tool"] as? String == "firewall.deny"
                })
            var stopping = daemon
            #expect(topology.foreignUntouched, "another table changed")
            _ = stopping.stop()
        }
    }

    @Test("SIGKILL of the daemon inside the window of a cutting deny, then a restart: rolled back")
    func denySurvivesSIGKILL() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let pending = try lab.spawn(
                [topology.daemon.binary, "call", "firewall.deny", Self.deny, "--yes", "--window", "10m"] + Self.probe
                    + ["--socket", topology.daemon.socket], name: "pending-deny")
            #expect(Poll.until(seconds: 15) { (try? Self.probePasses(topology.daemon)) == false })
            let killed = topology.daemon.stop(signal: SIGKILL)
            #expect(killed)
            #expect(lab.stop(pending))
            try topology.daemon.start()
            #expect(Poll.until(seconds: 15) { (try? Self.probePasses(topology.daemon)) == true })
            #expect(try Self.activeRules(topology.daemon) == 0)
            let rollback = try #require(
                try topology.daemon.events().first { $0["kind"] as? String == "guard.rolled_back" })
            #expect((rollback["reason"] as? String)?.contains("daemon stopped") == true)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }
}
