import AiosCore
import AiosTesting
import Testing

@Suite("the pipeline")
struct OrchestratorTests {
    @Test("a read call runs and writes one audit row with the decision")
    func readIsAudited() async throws {
        let pipeline = try Pipeline(initial: "on")
        let outcome = try await pipeline.call("fake.probe", ["expect": "on"])
        #expect(outcome.status == .read)
        #expect(outcome.output?["value"] == "on")
        let rows = pipeline.audit.calls("fake.probe")
        #expect(rows.count == 1)
        #expect(rows.first?.decision == "allow")
        #expect(rows.first?.result == "read")
    }

    @Test(
        "bad input is refused before the tool runs, audited, and changes nothing",
        arguments: [
            (JSONValue.object(["value": 1]), "input.value"), (["value": "on", "extra": true], "input.extra"),
            ([:], "input.value"),
        ] as [(JSONValue, String)])
    func badInput(input: JSONValue, field: String) async throws {
        let pipeline = try Pipeline()
        let error = try await #require(throws: AiosError.self) { try await pipeline.call("fake.tweak", input) }
        #expect(error.code == .invalidInput)
        #expect(error.location?.field == field)
        #expect(pipeline.switch_.value == "off")
        #expect(pipeline.switch_.applyCount == 0)
        let row = try #require(pipeline.audit.calls("fake.tweak").first)
        #expect(row.result == "error")
        #expect(row.errorCode == "invalid_input")
    }

    @Test("unparsable raw input is audited as invalid input")
    func notJSON() async throws {
        let pipeline = try Pipeline()
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.orchestrator.execute(ToolCall(tool: "fake.tweak", origin: .user, rawInput: "{value: on"))
        }
        #expect(error.code == .invalidInput)
        #expect(pipeline.audit.calls("fake.tweak").first?.input == "{value: on")
        #expect(pipeline.switch_.applyCount == 0)
    }

    @Test("an unknown tool is not found")
    func unknownTool() async throws {
        let pipeline = try Pipeline()
        let error = try await #require(throws: AiosError.self) { try await pipeline.call("fake.nope", [:]) }
        #expect(error.code == .notFound)
    }

    @Test("a denying policy refuses with its reason and audits the decision")
    func denied() async throws {
        let policy = Policy(rules: [
            PolicyRule(origins: ["user"], tools: ["fake.tweak"], decision: .deny, reason: "tweaks are frozen")
        ])
        let pipeline = try Pipeline(policy: policy)
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call("fake.tweak", ["value": "on"])
        }
        #expect(error.code == .policyDenied)
        #expect(error.message.contains("tweaks are frozen"))
        #expect(pipeline.switch_.value == "off")
        let row = try #require(pipeline.audit.calls("fake.tweak").first)
        #expect(row.decision == "deny")
        #expect(row.reason == "tweaks are frozen")
    }

    @Test("confirm needs --yes; with it the call runs")
    func confirmation() async throws {
        let policy = Policy(rules: [PolicyRule(tools: ["fake.tweak"], decision: .confirm, reason: "ask first")])
        let pipeline = try Pipeline(policy: policy)
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call("fake.tweak", ["value": "on"])
        }
        #expect(error.code == .needsConfirmation)
        #expect(pipeline.switch_.value == "off")
        let outcome = try await pipeline.call("fake.tweak", ["value": "on"], yes: true)
        #expect(outcome.status == .applied)
        #expect(pipeline.switch_.value == "on")
    }

    @Test("input the plan refuses gets its error before any request for --yes")
    func validatedBeforeConfirmation() async throws {
        let policy = Policy(rules: [PolicyRule(tools: ["fake.tweak"], decision: .confirm, reason: "ask first")])
        let pipeline = try Pipeline(policy: policy)
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call("fake.tweak", ["value": "invalid"])
        }
        #expect(error.code == .invalidInput && error.location?.field == "input.value")
        #expect(pipeline.switch_.value == "off")
    }

    @Test("a guard window outside 1s–1h is refused before anything changes", arguments: [0, 999, 3_600_001])
    func windowRange(windowMs: Int64) async throws {
        let pipeline = try Pipeline()
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call("fake.set", ["value": "on"], guardOptions: GuardOptions(windowMs: windowMs))
        }
        #expect(error.code == .invalidInput && error.location?.field == "guard.window")
        #expect(pipeline.switch_.value == "off")
    }

    @Test("a dry run shows the diff and applies nothing")
    func dryRun() async throws {
        let pipeline = try Pipeline()
        let outcome = try await pipeline.call("fake.tweak", ["value": "on"], dryRun: true)
        #expect(outcome.status == .planned)
        #expect(outcome.diff == [Change("set", "fake switch", detail: "off → on")])
        #expect(pipeline.switch_.value == "off")
        #expect(pipeline.audit.events.last?.kind == "call.dry_run")
    }

    @Test("the same change twice changes nothing the second time and says so")
    func idempotent() async throws {
        let pipeline = try Pipeline()
        #expect(try await pipeline.call("fake.tweak", ["value": "on"]).status == .applied)
        let second = try await pipeline.call("fake.tweak", ["value": "on"])
        #expect(second.status == .unchanged)
        #expect(second.diff.isEmpty)
        #expect(pipeline.switch_.applyCount == 1)
    }

    @Test("a change that touches a protected item is refused for every origin")
    func protected() async throws {
        var policy = Policy.permissive
        policy.protected = [
            ProtectedPattern(kind: "fake_switch", match: ["value": "mgmt*"], reason: "management stays")
        ]
        let pipeline = try Pipeline(policy: policy, initial: "mgmt-on")
        for origin in [Origin.user, .goal, .boot, .llm] {
            let error = try await #require(throws: AiosError.self) {
                try await pipeline.call("fake.set", ["value": "off"], origin: origin, yes: true)
            }
            #expect(error.code == .policyDenied)
            #expect(error.message.contains("management stays"))
        }
        #expect(pipeline.switch_.value == "mgmt-on")
        // Audited as the refusal it is, not with the rule's allow.
        #expect(pipeline.audit.calls("fake.set").allSatisfy { $0.decision == "deny" })
    }

    @Test("registering a duplicate or foreign tool name fails")
    func registry() throws {
        var registry = ToolRegistry()
        let target = FakeSwitch()
        try registry.add(FakeTweakTool(target))
        #expect(throws: AiosError.self) { try registry.add(FakeTweakTool(target)) }
        struct Foreign: ToolModule {
            static let namespace = "other"
            func register(in registry: inout ToolRegistry) throws { try registry.add(FakeProbeTool(FakeSwitch())) }
        }
        #expect(throws: AiosError.self) { try registry.install(Foreign()) }
    }
}
