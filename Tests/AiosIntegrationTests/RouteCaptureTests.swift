import AiosTesting
import Foundation
import Testing

/// Topology:
///
/// ```
///   netns rcl: r0 10.70.0.2/24, default via 10.70.0.1   ← aios-net daemon,
///        │                                                 --management-subnet 10.70.5.0/24
///   netns rgw: g0 10.70.0.1/24
/// ```
@Suite("routes that can cut connectivity are guarded however they are spelled", .serialized)
struct RouteCaptureTests {
    static func build(_ lab: Lab) throws -> (namespace: String, daemon: DaemonHarness) {
        let client = try lab.namespace("rcl")
        let gateway = try lab.namespace("rgw")
        try lab.ip(client, "link", "add", "r0", "type", "veth", "peer", "name", "g0", "netns", gateway)
        try lab.ip(client, "addr", "add", "10.70.0.2/24", "dev", "r0")
        try lab.ip(gateway, "addr", "add", "10.70.0.1/24", "dev", "g0")
        try lab.ip(client, "link", "set", "r0", "up")
        try lab.ip(gateway, "link", "set", "g0", "up")
        try lab.ip(client, "route", "add", "default", "via", "10.70.0.1")
        var daemon = try DaemonHarness(lab: lab, namespace: client)
        daemon.extraArguments = ["--dns-listen", "off", "--management-subnet", "10.70.5.0/24"]
        try daemon.start()
        return (client, daemon)
    }

    @Test(
        "default by another spelling, into a management subnet, over the gateway: each needs --yes (75); a plain route does not",
        arguments: [
            (#"{"destination": "0.0.0.0/0", "gateway": "10.70.0.1"}"#, true),
            (#"{"destination": "0.0.0.0/1", "gateway": "10.70.0.1"}"#, true),
            (#"{"destination": "128.0.0.0/1", "gateway": "10.70.0.1"}"#, true),
            (#"{"destination": "10.70.5.128/25", "gateway": "10.70.0.1"}"#, true),
            (#"{"destination": "10.70.0.1/32", "interface": "r0"}"#, true),
            (#"{"destination": "10.20.0.0/16", "gateway": "10.70.0.1"}"#, false),
        ])
    func routeAdd(input: String, guarded: Bool) async throws {
        try await Lab.with { lab in
            let (namespace, daemon) = try Self.build(lab)
            let before = try Shell.check(["ip", "-n", namespace, "route", "show"])
            let result = try daemon.cli(["call", "net.route_add", input])
            if guarded {
                #expect(result.status == 75, "\(result.stdout) \(result.stderr)")
                #expect(try Shell.check(["ip", "-n", namespace, "route", "show"]) == before, "nothing changed")
            } else {
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
    }

    @Test("WireGuard allowed_ips that cover the default route or a management subnet need --yes too")
    func wireguardAllowedIPs() async throws {
        try await Lab.with { lab in
            let (_, daemon) = try Self.build(lab)
            let key = try WireGuardTests.publicKey()
            let name = WireGuardTests.interface("c")
            for (allowed, guarded) in [("10.30.0.0/24", false), ("0.0.0.0/1", true), ("10.70.5.7/32", true)] {
                let result = try daemon.cli([
                    "call", "net.wireguard_setup",
                    #"{"interface": "\#(name)", "peers": [{"public_key": "\#(key)", "allowed_ips": ["10.30.0.0/24", "\#(allowed)"]}]}"#,
                ])
                #expect(result.status == (guarded ? 75 : 0), "\(allowed): \(result.stdout) \(result.stderr)")
            }
        }
    }
}
