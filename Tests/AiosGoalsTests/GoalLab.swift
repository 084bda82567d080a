import AiosCore
import AiosStore
import AiosTesting
import Foundation
import Logging
import Synchronization

@testable import AiosFirewallTools
@testable import AiosGoals

/// Local records in memory: `dns.records_set/list/remove` as the DNS module speaks them, for the
/// goals' unit tests (the records handler's logic, without unbound).
final class FakeRecords: Sendable {
    let records = Mutex<[String: [String]]>([:])

    struct Set: Tool {
        struct Input: Decodable, Sendable {
            struct Record: Decodable, Sendable {
                var name: String
                var addresses: [String]?
                var address: String?
            }
            var records: [Record]
        }
        static let descriptor = ToolDescriptor(
            name: "dns.records_set", summary: "fake", effect: .change,
            inputSchema: .object([
                "name": .string("Host name"), "address": .string("Address"),
                "addresses": .array(of: .string("Address")), "ttl": .integer("TTL"),
                "records": .array(of: JSONSchema(["type": "object"])),
            ]))
        let fake: FakeRecords
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            let fake = fake
            return .change([Change("set", "records")]) {
                for record in input.records {
                    fake.records.withLock {
                        $0[record.name] = (record.addresses ?? []) + (record.address.map { [$0] } ?? [])
                    }
                }
                return ["changed": .array(input.records.map { .string($0.name) })]
            }
        }
    }

    struct List: Tool {
        struct Input: Decodable, Sendable {}
        static let descriptor = ToolDescriptor(
            name: "dns.records_list", summary: "fake", effect: .read, inputSchema: .object([:]))
        let fake: FakeRecords
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            let records = fake.records.withLock { $0 }
            return .read {
                [
                    "records": .array(
                        records.sorted { $0.key < $1.key }.map {
                            ["name": .string($0.key), "addresses": .array($0.value.map(JSONValue.string))]
                        })
                ]
            }
        }
    }

    struct Remove: Tool {
        struct Input: Decodable, Sendable { var names: [String] }
        static let descriptor = ToolDescriptor(
            name: "dns.records_remove", summary: "fake", effect: .change,
            inputSchema: .object(["names": .array(of: .string("Name"))]))
        let fake: FakeRecords
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            let fake = fake
            return .change([Change("remove", "records")]) {
                fake.records.withLock { for name in input.names { $0[name] = nil } }
                return ["changed": .array(input.names.map(JSONValue.string))]
            }
        }
    }
}

struct FakeRecordsModule: ToolModule {
    static let namespace = "dns"
    let fake: FakeRecords
    func register(in registry: inout ToolRegistry) throws {
        try registry.add(FakeRecords.Set(fake: fake))
        try registry.add(FakeRecords.List(fake: fake))
        try registry.add(FakeRecords.Remove(fake: fake))
    }
}

/// The goals' reconciler over the real pipeline, the firewall on a fake kernel and records in
/// memory, with a clock the test moves: no root, milliseconds.
struct GoalLab {
    let kernel = FakeNftablesKernel()
    let records = FakeRecords()
    let store: Store
    let clock = TestClock()
    let orchestrator: Orchestrator
    let reconciler: GoalReconciler
    let kinds: GoalKinds
    let statusDirectory: String
    let task: Task<Void, Never>

    init() throws {
        kernel.addTable("aios_firewall", sets: EntrySets.all.map(\.name))
        store = try Store.temporary()
        var registry = ToolRegistry()
        try registry.install(
            FirewallModule(nft: FakeNftables(), kernel: kernel, store: store, settings: FirewallSettings()))
        try registry.install(FakeRecordsModule(fake: records))
        kinds = try GoalsModule.standardKinds(tools: registry)
        statusDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-goals-\(UUID())").path
        let reconciler = GoalReconciler(
            kinds: kinds, store: store, clock: clock,
            settings: GoalSettings(resyncMs: 300_000, statusDirectory: statusDirectory),
            logger: Logger(label: "test"))
        self.reconciler = reconciler
        let orchestrator = Orchestrator(
            registry: registry, policies: PolicyHolder(.permissive), audit: store, guards: store, clock: clock,
            redactor: Redactor(), observer: reconciler, logger: Logger(label: "test"))
        self.orchestrator = orchestrator
        task = Task { await reconciler.run(calls: orchestrator) }
    }

    func tearDown() {
        task.cancel()
        try? FileManager.default.removeItem(atPath: statusDirectory)
    }

    /// Feeds `text` as file `path` and waits until every goal in it has left `pending`.
    func drop(_ path: String, _ text: String) async {
        await reconciler.fileChanged(path, content: .success(text))
    }

    /// Waits until goal `name` is in `phase`.
    func waitFor(_ name: String, _ phase: String) async -> Bool {
        await Poll.until(seconds: 5) { () async -> Bool in await reconciler.record(name)?.phase == phase }
    }

    /// The rules in force, by id.
    func rules() async throws -> [String: String] {
        let output = try await call("firewall.list", ["limit": 1000]).output ?? [:]
        var rules: [String: String] = [:]
        for rule in output["rules"]?.arrayValue ?? [] {
            rules[rule["id"]?.stringValue ?? ""] = rule["summary"]?.stringValue
        }
        return rules
    }

    /// Elements in the fake kernel's entry sets.
    func elements() -> Int { EntrySets.all.map { kernel.elements("aios_firewall", $0.name).count }.reduce(0, +) }

    func call(_ tool: String, _ input: JSONValue) async throws -> CallOutcome {
        try await orchestrator.execute(ToolCall(tool: tool, input: input, origin: .user))
    }
}
