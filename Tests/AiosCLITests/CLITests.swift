import AiosTesting
import Foundation
import Testing

/// The built binary without a daemon: help text, usage errors, exit codes, `--json` errors,
/// and `policy check`.
@Suite("the aios-net command line")
struct CLITests {
    let binary = BuiltBinary.path()
    let nowhere = "/tmp/aios-cli-test-\(UUID().uuidString).sock"

    @Test(
        "every command's help has examples",
        arguments: ["daemon", "call", "tools", "events", "doctor", "guard", "policy"])
    func help(command: String) throws {
        let result = try Shell.run([binary, command, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Example"), "\(result.stdout)")
    }

    @Test("the top-level help lists the commands and the exit codes")
    func topHelp() throws {
        let result = try Shell.run([binary, "--help"])
        #expect(result.status == 0)
        for word in [
            "daemon", "call", "tools", "events", "doctor", "guard", "policy", "unreachable", "AIOS_NET_SOCKET",
        ] {
            #expect(result.stdout.contains(word), "\(word)")
        }
    }

    @Test("aios-bench --help prints its usage and runs no benchmark")
    func benchHelp() throws {
        let bench = (binary as NSString).deletingLastPathComponent + "/aios-bench"
        let result = try Shell.run([bench, "--help"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("usage: aios-bench"), "\(result.stdout)")
        #expect(!result.stdout.contains("calls/s"), "a benchmark ran")
    }

    @Test("a usage error exits 64")
    func usage() throws {
        #expect(try Shell.run([binary, "call"]).status == 64)
        #expect(try Shell.run([binary, "events", "--limit", "many"]).status == 64)
        #expect(try Shell.run([binary, "frobnicate"]).status == 64)
    }

    @Test("an unreachable daemon exits 69 with a hint, in text and in --json")
    func unreachable() throws {
        let text = try Shell.run([binary, "tools", "--socket", nowhere])
        #expect(text.status == 69)
        #expect(text.stderr.contains("aios-net daemon"))
        let json = try Shell.run([binary, "call", "net.interfaces", "--json", "--socket", nowhere])
        #expect(json.status == 69)
        let value = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let error = value?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "unavailable")
        #expect((error?["message"] as? String)?.isEmpty == false)
    }

    @Test("AIOS_NET_SOCKET moves the default socket")
    func socketVariable() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["AIOS_NET_SOCKET"] = nowhere
        let result = try Shell.run([binary, "tools"], environment: environment)
        #expect(result.status == 69)
        #expect(result.stderr.contains(nowhere))
    }

    @Test("a bad --since is invalid input (65)")
    func badSince() throws {
        let result = try Shell.run([binary, "events", "--since", "yesterday", "--socket", nowhere])
        #expect(result.status == 65)
        #expect(result.stderr.contains("not a duration"))
    }

    @Test("policy check accepts the shipped policies and rejects a malformed one with file:line")
    func policyCheck() throws {
        let root = BuiltBinary.packageRoot()
        let good = try Shell.run([binary, "policy", "check", "\(root)/Policies/default.yaml"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("ok"))
        let bad = "\(root)/Tests/AiosDaemonTests/Fixtures/unknown-key.yaml"
        let result = try Shell.run([binary, "policy", "check", bad])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(bad):6"), "\(result.stderr)")
        #expect(result.stderr.contains("rules[0].decison"))
        let json = try Shell.run([binary, "policy", "check", bad, "--json"])
        let value = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let location = (value?["error"] as? [String: Any])?["location"] as? [String: Any]
        #expect(location?["line"] as? Int == 6)
        #expect(location?["field"] as? String == "rules[0].decison")
    }
}
