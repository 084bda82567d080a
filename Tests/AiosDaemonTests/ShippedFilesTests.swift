import AiosCore
import Foundation
import Testing

@testable import AiosDaemon

@Suite("shipped files load")
struct ShippedFilesTests {
    @Test("Policies/default.yaml is the built-in default policy, byte for byte")
    func defaultPolicyMatches() throws {
        let shipped = try String(contentsOfFile: "\(Paths.root)/Policies/default.yaml", encoding: .utf8)
        #expect(shipped == DefaultPolicy.yaml)
    }

    @Test("every policy in Policies/ and Examples/ loads")
    func policiesLoad() throws {
        let files = try (Paths.files(in: "Policies") + Paths.files(in: "Examples")).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let policy = try PolicyLoader.load(path: file)
            #expect(!policy.rules.isEmpty, "\(file)")
        }
    }

    @Test("the default policy: users read and change, disruptive needs --yes, the LLM only reads")
    func defaultPolicyDecisions() throws {
        let policy = try PolicyLoader.load(path: nil)
        let read = ToolDescriptor(name: "net.routes", summary: "", effect: .read, inputSchema: .object())
        let change = ToolDescriptor(name: "dns.block", summary: "", effect: .change, inputSchema: .object())
        let disruptive = ToolDescriptor(
            name: "firewall.apply_default", summary: "", effect: .disruptive, inputSchema: .object())
        #expect(policy.decide(origin: .user, tool: read).verdict == .allow)
        #expect(policy.decide(origin: .user, tool: change).verdict == .allow)
        #expect(policy.decide(origin: .user, tool: disruptive).verdict == .confirm)
        #expect(policy.decide(origin: .llm, tool: read).verdict == .allow)
        #expect(policy.decide(origin: .llm, tool: change).verdict == .confirm)
        #expect(policy.decide(origin: .llm, tool: disruptive).verdict == .deny)
        #expect(policy.protected.contains { $0.kind == "firewall_rule" })
        #expect(policy.limits.maxExpiryMs == Int64(604_800_000))
    }

    @Test("the systemd unit is Type=notify, Restart=always, KillMode=process")
    func systemdUnit() throws {
        let unit = try String(contentsOfFile: "\(Paths.root)/Examples/aios-net.service", encoding: .utf8)
        for line in ["Type=notify", "Restart=always", "KillMode=process", "ExecStart=/usr/local/bin/aios-net daemon"] {
            #expect(unit.split(separator: "\n").contains { $0.hasPrefix(line) }, "\(line)")
        }
    }

    @Test("every file in Prompts/ is non-empty text")
    func prompts() throws {
        let files = try Paths.files(in: "Prompts")
        #expect(!files.isEmpty)
        for file in files { #expect(!(try String(contentsOfFile: file, encoding: .utf8)).isEmpty) }
    }
}
