import AiosCore
import AiosTesting
import Logging

/// A pipeline over the fake tools and an in-memory audit/guard store, for tests.
struct Pipeline {
    let orchestrator: Orchestrator
    let switch_: FakeSwitch
    let audit: MemoryAudit
    let guards: MemoryGuards
    let clock: TestClock
    let log: CapturedLog

    init(
        policy: Policy = .permissive, initial: String = "off", failOn: String? = nil,
        guards: MemoryGuards = MemoryGuards(), persisting: (any GuardStore)? = nil
    ) throws {
        switch_ = FakeSwitch(initial)
        audit = MemoryAudit()
        self.guards = guards
        clock = TestClock()
        log = CapturedLog()
        var registry = ToolRegistry()
        try registry.install(FakeModule(switch_, failOn: failOn))
        let redactor = Redactor()
        orchestrator = Orchestrator(
            registry: registry, policies: PolicyHolder(policy), audit: audit, guards: persisting ?? guards,
            clock: clock, redactor: redactor,
            logger: log.logger())
    }

    func call(
        _ tool: String, _ input: JSONValue, origin: Origin = .user, yes: Bool = false, dryRun: Bool = false,
        guardOptions: GuardOptions? = nil
    ) async throws -> CallOutcome {
        try await orchestrator.execute(
            ToolCall(
                tool: tool, input: input, origin: origin, confirmed: yes, dryRun: dryRun, guardOptions: guardOptions))
    }
}
