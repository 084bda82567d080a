import AiosTesting
import Foundation
import Testing

/// Small inputs that were taken when they should not have been, against one daemon in its own
/// namespace (DNS tools write their files; no resolver runs).
@Suite("inputs refused with the field named, and output that is not cut", .serialized)
struct InputEdgeTests {
    static func daemon(_ lab: Lab) throws -> DaemonHarness {
        var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("edge"))
        daemon.extraArguments = ["--dns-listen", "off"]
        try daemon.start()
        return daemon
    }

    @Test(
        "each is refused (65) naming its field",
        arguments: [
            ("dns.block", #"{"name": "a.example", "names": ["b.example"]}"#, "input.name"),
            ("dns.records_set", #"{"name": "localhost", "address": "10.0.0.9"}"#, "input.name"),
            ("dns.records_set", #"{"name": "db.localhost", "address": "10.0.0.9"}"#, "input.name"),
            ("net.allocate", #"{"subnet": "0.0.0.0/0", "name": "x"}"#, "input.subnet"),
            ("firewall.allow", #"{"port": "+80"}"#, "input.port"),
        ])
    func refused(tool: String, input: String, field: String) async throws {
        try await Lab.with { lab in
            let daemon = try Self.daemon(lab)
            let result = try daemon.cli(["call", tool, input])
            #expect(result.status == 65, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
        }
    }

    @Test("a WireGuard key file others can read is refused, not imported quietly")
    func worldReadableKey() async throws {
        try await Lab.with { lab in
            let daemon = try Self.daemon(lab)
            let key = try Shell.check(["wg", "genkey"])
            let path = "\(lab.directory)/imported.key"
            try key.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o644)
            let name = WireGuardTests.interface("k")
            let result = try daemon.cli([
                "call", "net.wireguard_setup", #"{"interface": "\#(name)", "private_key_ref": "\#(path)"}"#,
            ])
            #expect(result.status == 65 && result.stderr.contains("readable by others"), "\(result.stderr)")
            chmod(path, 0o600)
            let fixed = try daemon.cli([
                "call", "net.wireguard_setup", #"{"interface": "\#(name)", "private_key_ref": "\#(path)"}"#,
            ])
            #expect(fixed.status == 0, "\(fixed.stderr)")
        }
    }

    @Test("aios-net tools prints every name whole")
    func toolNames() async throws {
        try await Lab.with { lab in
            let daemon = try Self.daemon(lab)
            let listing = try daemon.cli(["tools"]).stdout
            #expect(listing.contains("firewall.sandbox_attach "), "\(listing)")
            #expect(listing.contains("firewall.sandbox_reconcile "))
        }
    }
}
