import AiosCore
import AiosTesting
import Testing

@Suite("the guard")
struct GuardTests {
    @Test("a disruptive change whose probe never passes is rolled back, with events saying so")
    func probeFails() async throws {
        let pipeline = try Pipeline()
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call(
                "fake.set", ["value": "on"],
                guardOptions: GuardOptions(
                    probe: CallRequest(tool: "fake.probe", input: ["expect": "never"]), windowMs: 5000))
        }
        #expect(error.code == .rolledBack)
        #expect(pipeline.switch_.value == "off")
        #expect(pipeline.guards.all.map(\.state) == [.rolledBack])
        #expect(pipeline.audit.events.contains { $0.kind == "guard.rolled_back" && $0.tool == "fake.set" })
        #expect(
            pipeline.audit.events.contains {
                $0.origin == "rollback" && $0.tool == "fake.set" && $0.result == "applied"
            })
    }

    @Test("a disruptive change whose probe passes is kept and the guard confirmed")
    func probePasses() async throws {
        let pipeline = try Pipeline()
        let outcome = try await pipeline.call(
            "fake.set", ["value": "on"],
            guardOptions: GuardOptions(probe: CallRequest(tool: "fake.probe", input: ["expect": "on"])))
        #expect(outcome.status == .applied)
        #expect(outcome.guardState?.state == .confirmed)
        #expect(pipeline.switch_.value == "on")
        #expect(pipeline.audit.events.contains { $0.kind == "guard.confirmed" })
    }

    @Test("the guard row is written before the change is applied")
    func rowFirst() async throws {
        let guards = RecordingGuards()
        let pipeline = try Pipeline(guards: guards)
        guards.onOpen = { #expect(pipeline.switch_.value == "off") }
        _ = try await pipeline.call("fake.set", ["value": "on"])
        #expect(guards.opened == 1)
        #expect(pipeline.switch_.value == "on")
    }

    @Test("without a probe the change waits for confirmation and rolls back at its deadline")
    func deadline() async throws {
        let pipeline = try Pipeline()
        let outcome = try await pipeline.call("fake.set", ["value": "on"], guardOptions: GuardOptions(windowMs: 10_000))
        #expect(outcome.status == .awaitingConfirmation)
        #expect(pipeline.switch_.value == "on")
        #expect(try await pipeline.orchestrator.rollBackExpiredGuards() != nil)
        #expect(pipeline.switch_.value == "on")
        pipeline.clock.advance(by: 10_001)
        #expect(try await pipeline.orchestrator.rollBackExpiredGuards() == nil)
        #expect(pipeline.switch_.value == "off")
        #expect(pipeline.guards.all.first?.state == .rolledBack)
    }

    @Test("a confirmed change stays after its deadline; confirming twice is an error")
    func confirm() async throws {
        let pipeline = try Pipeline()
        let outcome = try await pipeline.call("fake.set", ["value": "on"])
        let id = try #require(outcome.guardState?.id)
        _ = try await pipeline.orchestrator.confirmGuard(id: id)
        pipeline.clock.advance(by: 60_000)
        _ = try await pipeline.orchestrator.rollBackExpiredGuards()
        #expect(pipeline.switch_.value == "on")
        await #expect(throws: AiosError.self) { _ = try await pipeline.orchestrator.confirmGuard(id: id) }
        await #expect(throws: AiosError.self) { _ = try await pipeline.orchestrator.confirmGuard(id: "nope") }
    }

    @Test("a daemon that dies inside the window rolls the change back when it starts again")
    func recoveryAfterCrash() async throws {
        let durable = MemoryGuards()
        // The first run opens its guard durably, applies, and then "dies": nothing it does after
        // the apply reaches the durable store (every later write fails), as after a SIGKILL.
        let first = try Pipeline(guards: durable, persisting: DiesAfterOpen(durable))
        _ = try? await first.call(
            "fake.set", ["value": "on"],
            guardOptions: GuardOptions(
                probe: CallRequest(tool: "fake.probe", input: ["expect": "never"]), windowMs: 5000))
        #expect(first.switch_.value == "on")
        #expect(try await durable.openGuards().count == 1)

        // The second run shares the durable guard store and the machine (the switch).
        var registry = ToolRegistry()
        try registry.install(FakeModule(first.switch_))
        let audit = MemoryAudit()
        let second = Orchestrator(
            registry: registry, policies: PolicyHolder(.permissive), audit: audit, guards: durable, clock: TestClock(),
            logger: CapturedLog().logger())
        let recovered = try await second.recoverOpenGuards()
        #expect(recovered.map(\.state) == [.rolledBack])
        #expect(first.switch_.value == "off")
        #expect(try await durable.openGuards().isEmpty)
        #expect(
            audit.events.contains { $0.kind == "guard.rolled_back" && ($0.reason ?? "").contains("daemon stopped") })
    }

    @Test("a change tool's plan can make one change disruptive: gated as disruptive and guarded")
    func planEscalation() async throws {
        let policy = Policy(rules: [
            PolicyRule(origins: ["user"], effects: [.read, .change], decision: .allow, reason: "changes ok"),
            PolicyRule(origins: ["user"], effects: [.disruptive], decision: .confirm, reason: "needs --yes"),
        ])
        let pipeline = try Pipeline(policy: policy)
        #expect(try await pipeline.call("fake.tweak", ["value": "on"]).status == .applied)
        let error = try await #require(throws: AiosError.self) {
            try await pipeline.call("fake.tweak", ["value": "cut"])
        }
        #expect(error.code == .needsConfirmation)
        #expect(pipeline.switch_.value == "on")
        let rolled = try await #require(throws: AiosError.self) {
            try await pipeline.call(
                "fake.tweak", ["value": "cut"], yes: true,
                guardOptions: GuardOptions(
                    probe: CallRequest(tool: "fake.probe", input: ["expect": "on"]), windowMs: 3000))
        }
        #expect(rolled.code == .rolledBack)
        #expect(pipeline.switch_.value == "on")
        #expect(pipeline.audit.calls("fake.tweak").last?.decision == "confirm")
    }

    @Test("a change that fails half-way is rolled back")
    func applyFails() async throws {
        let pipeline = try Pipeline(failOn: "on")
        await #expect(throws: AiosError.self) { try await pipeline.call("fake.set", ["value": "on"]) }
        #expect(pipeline.switch_.value == "off")
        #expect(pipeline.guards.all.first?.state == .rolledBack)
    }
}

/// Counts guard openings and runs a hook at that moment.
final class RecordingGuards: MemoryGuards, @unchecked Sendable {
    var opened = 0
    var onOpen: () -> Void = {}

    override func open(_ record: GuardRecord) async throws {
        onOpen()
        opened += 1
        try await super.open(record)
    }
}

/// Writes a guard's opening through to a durable store, then fails every later write: a process
/// killed right after it applied its change.
struct DiesAfterOpen: GuardStore {
    let durable: MemoryGuards
    init(_ durable: MemoryGuards) { self.durable = durable }
    struct Dead: Error {}

    func open(_ record: GuardRecord) async throws { try await durable.open(record) }
    func transition(id: String, from: Set<GuardState>, to: GuardState, note: String?) async throws -> Bool {
        throw Dead()
    }
    func guardRecord(id: String) async throws -> GuardRecord? { try await durable.guardRecord(id: id) }
    func openGuards() async throws -> [GuardRecord] { try await durable.openGuards() }
}
