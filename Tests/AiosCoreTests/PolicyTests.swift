import AiosCore
import AiosTesting
import Testing

@Suite("policy decisions")
struct PolicyTests {
    let policy = Policy(
        defaultDecision: .deny,
        rules: [
            PolicyRule(origins: ["user"], effects: [.read, .change], decision: .allow, reason: "people may"),
            PolicyRule(origins: ["user"], effects: [.disruptive], decision: .confirm, reason: "needs --yes"),
            PolicyRule(origins: ["llm"], tools: ["fake.probe"], decision: .allow),
            PolicyRule(origins: ["*"], tools: ["fake.*"], decision: .deny, reason: "fake tools are off"),
        ])

    @Test(
        "the first matching rule decides; otherwise the default",
        arguments: [
            ("user", FakeProbeTool.descriptor, Verdict.allow),
            ("user", FakeSetTool.descriptor, .confirm),
            ("llm", FakeProbeTool.descriptor, .allow),
            ("llm", FakeSetTool.descriptor, .deny),
            ("boot", FakeTweakTool.descriptor, .deny),
        ])
    func firstMatch(origin: String, tool: ToolDescriptor, verdict: Verdict) {
        #expect(policy.decide(origin: Origin(rawValue: origin), tool: tool).verdict == verdict)
    }

    @Test("rollbacks are always allowed and probes may only read")
    func internalOrigins() {
        #expect(policy.decide(origin: .rollback, tool: FakeSetTool.descriptor).verdict == .allow)
        #expect(policy.decide(origin: .guard, tool: FakeProbeTool.descriptor).verdict == .allow)
        #expect(policy.decide(origin: .guard, tool: FakeSetTool.descriptor).verdict == .deny)
        let lockdown = Policy(defaultDecision: .deny, rules: [PolicyRule(origins: ["*"], decision: .deny)])
        #expect(lockdown.decide(origin: .restore, tool: FakeSetTool.descriptor).verdict == .allow)
        #expect(lockdown.decide(origin: .boot, tool: FakeSetTool.descriptor).verdict == .deny)
    }

    @Test("globs match tool names")
    func globs() {
        #expect(Glob.matches("net.*", "net.interfaces"))
        #expect(Glob.matches("*", "anything"))
        #expect(Glob.matches("firewall.?llow", "firewall.allow"))
        #expect(!Glob.matches("net.*", "firewall.allow"))
        #expect(!Glob.matches("net.routes", "net.routes2"))
    }

    @Test("protected patterns cover matching items only")
    func protection() {
        let pattern = ProtectedPattern(
            kind: "firewall_rule", match: ["role": "management"], reason: "keeps operators in")
        #expect(pattern.covers(ProtectedItem(kind: "firewall_rule", attributes: ["role": "management", "port": "22"])))
        #expect(!pattern.covers(ProtectedItem(kind: "firewall_rule", attributes: ["role": "user"])))
        #expect(!pattern.covers(ProtectedItem(kind: "dns_record", attributes: ["role": "management"])))
    }

    @Test(
        "durations parse and format",
        arguments: [
            ("500ms", 500), ("30s", 30_000), ("2h", 7_200_000), ("2H", 7_200_000), ("1h30m", 5_400_000),
            ("7d", 604_800_000), ("1d2h3m4s5ms", 93_784_005), ("1MS", 1),
        ] as [(String, Int64)])
    func durations(text: String, ms: Int64) throws {
        #expect(try DurationText.milliseconds(text) == ms)
        #expect(try DurationText.milliseconds(DurationText.format(milliseconds: ms)) == ms)
    }

    @Test(
        "bad durations are rejected: one grammar, no spaces, each unit once and largest first",
        arguments: ["", "5", "h", "5x", "-5s", "+5s", "1.5h", "1d1d", "30m1h", "1 h", " 1h", "1h ", "1h 30m", "1s500"])
    func badDurations(text: String) {
        #expect(throws: AiosError.self) { try DurationText.milliseconds(text) }
    }
}
