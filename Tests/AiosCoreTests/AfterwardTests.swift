import AiosCore
import AiosTesting
import Synchronization
import Testing

/// What each `afterward` saw: the tool's audit rows when it ran.
private final class Seen: Sendable {
    let counts = Mutex<[Int]>([])
    var all: [Int] { counts.withLock { $0 } }
}

/// `later.mark`: a change whose `afterward` notes how many audit rows its tool has when it runs.
private struct MarkTool: Tool {
    struct Input: Decodable, Sendable { var value: String }
    struct Output: Codable, Sendable { var value: String }

    static let descriptor = ToolDescriptor(
        name: "later.mark", summary: "A change with work left for afterwards", effect: .change,
        inputSchema: .object(["value": .string("Anything")], required: ["value"], examples: [["value": "x"]]))

    let audit: MemoryAudit
    let seen: Seen

    func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        if input.value == "same" { return .unchanged(Output(value: input.value)) }
        return .change(
            [Change("mark", input.value)],
            afterward: { [audit, seen] in
                let rows = audit.calls("later.mark").count
                seen.counts.withLock { $0.append(rows) }
            }
        ) { Output(value: input.value) }
    }
}

private struct MarkModule: ToolModule {
    static let namespace = "later"
    let tool: MarkTool
    func register(in registry: inout ToolRegistry) throws { try registry.add(tool) }
}

@Suite("work a change leaves for after its call is recorded")
struct AfterwardTests {
    /// Polls `condition`, suspending between polls: the work waited for runs in a task, which a
    /// thread blocked in a sleep could starve.
    static func eventually(seconds: Double, _ condition: () -> Bool) async -> Bool {
        await Poll.until(seconds: seconds) { () async in condition() }
    }

    @Test(
        "it starts once the call's audit row is written, or when a collecting caller starts it; a dry run or an unchanged call leaves none"
    )
    func afterTheAudit() async throws {
        let audit = MemoryAudit()
        let tool = MarkTool(audit: audit, seen: Seen())
        var registry = ToolRegistry()
        try registry.install(MarkModule(tool: tool))
        let orchestrator = Orchestrator(
            registry: registry, policies: PolicyHolder(.permissive), audit: audit, guards: MemoryGuards(),
            clock: TestClock(), redactor: Redactor(), logger: CapturedLog().logger())
        func call(_ value: String, dryRun: Bool = false, deferring: DeferredWork? = nil) async throws {
            _ = try await orchestrator.execute(
                ToolCall(tool: "later.mark", input: ["value": .string(value)], origin: .user, dryRun: dryRun),
                progress: { _ in }, deferring: deferring)
        }
        try await call("planned only", dryRun: true)
        try await call("same")
        try await call("first")
        #expect(await Self.eventually(seconds: 10) { tool.seen.all.count == 1 })
        // Three calls audited when it ran: the dry run, the unchanged one, and its own.
        #expect(tool.seen.all == [3])
        try await call("second")
        #expect(await Self.eventually(seconds: 10) { tool.seen.all.count == 2 })
        #expect(tool.seen.all == [3, 4])
        // A caller that delivers the answer itself collects the work and starts it afterwards.
        let deferred = DeferredWork()
        try await call("third", deferring: deferred)
        try await call("fourth", deferring: deferred)
        let early = await Self.eventually(seconds: 0.5) { tool.seen.all.count > 2 }
        #expect(!early, "nothing starts before the caller says")
        deferred.start()
        #expect(await Self.eventually(seconds: 10) { tool.seen.all.count == 4 })
        #expect(tool.seen.all.suffix(2) == [6, 6])
        deferred.start()
        let again = await Self.eventually(seconds: 0.5) { tool.seen.all.count > 4 }
        #expect(!again, "started once")
    }
}
