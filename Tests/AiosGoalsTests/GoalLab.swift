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

struct FakeDNSModule: ToolModule {
    static let namespace = "dns"
    let records: FakeRecords
    let names: FakeNames
    func register(in registry: inout ToolRegistry) throws {
        try registry.add(FakeRecords.Set(fake: records))
        try registry.add(FakeRecords.List(fake: records))
        try registry.add(FakeRecords.Remove(fake: records))
        for tool in [
            FakeNames.Block(fake: names) as any Tool, FakeNames.Unblock(fake: names), FakeNames.Allow(fake: names),
            FakeNames.AllowRemove(fake: names), FakeNames.ListAdd(fake: names), FakeNames.ListList(fake: names),
            FakeNames.ListRemove(fake: names),
        ] {
            try registry.add(tool)
        }
    }
}

/// The goals' reconciler over the real pipeline, the firewall on a fake kernel and records in
/// memory, with a clock the test moves: no root, milliseconds.
struct GoalLab {
    let kernel = FakeNftablesKernel()
    let records = FakeRecords()
    let names = FakeNames()
    let store: Store
    let clock = ManualClock()
    let orchestrator: Orchestrator
    let reconciler: GoalReconciler
    let kinds: GoalKinds
    let statusDirectory: String
    let task: Task<Void, Never>

    init() throws {
        kernel.addTable("aios_firewall", sets: EntrySets.all.map(\.name))
        store = try Store.temporary()
        let registry = try Self.registry(kernel: kernel, records: records, names: names, store: store)
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

    /// The tools the lab's goals drive: the firewall on `kernel`, records and names in memory.
    static func registry(kernel: FakeNftablesKernel, records: FakeRecords, names: FakeNames, store: Store) throws
        -> ToolRegistry
    {
        var registry = ToolRegistry()
        try registry.install(
            FirewallModule(nft: FakeNftables(), kernel: kernel, store: store, settings: FirewallSettings()))
        try registry.install(FakeDNSModule(records: records, names: names))
        return registry
    }

    /// The goal kinds over the lab's tools, without a running reconciler.
    static func kinds() throws -> (GoalKinds, Store) {
        let kernel = FakeNftablesKernel()
        let store = try Store.temporary()
        let registry = try registry(kernel: kernel, records: FakeRecords(), names: FakeNames(), store: store)
        return (try GoalsModule.standardKinds(tools: registry), store)
    }

    /// Runs `body` with a lab, then stops the reconciler (awaited: nothing writes afterwards)
    /// and removes its files.
    static func with(_ body: (GoalLab) async throws -> Void) async throws {
        let lab = try GoalLab()
        do {
            try await body(lab)
        } catch {
            await lab.tearDown()
            throw error
        }
        await lab.tearDown()
    }

    func tearDown() async {
        task.cancel()
        await task.value
        try? FileManager.default.removeItem(atPath: statusDirectory)
    }

    /// Feeds `text` as file `path` and waits until every goal in it has left `pending`.
    func drop(_ path: String, _ text: String) async {
        await reconciler.fileChanged(path, content: .success(text))
    }

    /// How long what must happen may take: a deadline, not a wait. Generous because the suite's
    /// root tests block cooperative threads for long stretches (their lab helpers are synchronous),
    /// and every actor here needs one of the two.
    static let patience = 300.0

    /// Waits until goal `name` is in `phase`.
    func waitFor(_ name: String, _ phase: String) async -> Bool {
        await Poll.until(seconds: Self.patience) { () async -> Bool in await reconciler.record(name)?.phase == phase }
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

/// The resolver's names and lists in memory, for the `BlockDomains` handler's unit tests.
final class FakeNames: Sendable {
    let blocked = Mutex<Set<String>>([])
    let allowed = Mutex<Set<String>>([])
    let lists = Mutex<[String: String]>([:])

    struct NamesInput: Decodable, Sendable {
        var names: [String]
        var comment: String?
    }
    static let namesSchema = JSONSchema.object([
        "names": .array(of: .string("A name")), "name": .string("A name"), "comment": .string("Why"),
    ])

    /// Adds `names` to `set` (or takes them out): the names changed.
    static func edit(_ set: borrowing Mutex<Set<String>>, _ names: [String], add: Bool) -> JSONValue {
        let changed = set.withLock { current in
            names.filter { add ? current.insert($0).inserted : current.remove($0) != nil }
        }
        return ["names": .array(changed.map(JSONValue.string))]
    }

    struct Block: Tool {
        static let descriptor = ToolDescriptor(
            name: "dns.block", summary: "fake", effect: .change, inputSchema: namesSchema)
        let fake: FakeNames
        func plan(_ input: NamesInput, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("set", "blocked")]) { [fake] in FakeNames.edit(fake.blocked, input.names, add: true) }
        }
    }
    struct Unblock: Tool {
        static let descriptor = ToolDescriptor(
            name: "dns.unblock", summary: "fake", effect: .change, inputSchema: namesSchema)
        let fake: FakeNames
        func plan(_ input: NamesInput, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("remove", "blocked")]) { [fake] in FakeNames.edit(fake.blocked, input.names, add: false) }
        }
    }
    struct Allow: Tool {
        static let descriptor = ToolDescriptor(
            name: "dns.allow", summary: "fake", effect: .change, inputSchema: namesSchema)
        let fake: FakeNames
        func plan(_ input: NamesInput, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("set", "allowed")]) { [fake] in FakeNames.edit(fake.allowed, input.names, add: true) }
        }
    }
    struct AllowRemove: Tool {
        static let descriptor = ToolDescriptor(
            name: "dns.allow_remove", summary: "fake", effect: .change, inputSchema: namesSchema)
        let fake: FakeNames
        func plan(_ input: NamesInput, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("remove", "allowed")]) { [fake] in FakeNames.edit(fake.allowed, input.names, add: false) }
        }
    }
    struct ListAdd: Tool {
        struct Input: Decodable, Sendable {
            var name: String
            var source: String
            var refresh: String?
        }
        static let descriptor = ToolDescriptor(
            name: "dns.blocklist_add", summary: "fake", effect: .change,
            inputSchema: .object(
                ["name": .string("List name"), "source": .string("Source"), "refresh": .string("Refresh")],
                required: ["name", "source"]))
        let fake: FakeNames
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("add", "list \(input.name)")]) { [fake] in
                fake.lists.withLock { $0[input.name] = input.source }
                return ["name": .string(input.name)]
            }
        }
    }
    struct ListList: Tool {
        struct Input: Decodable, Sendable {}
        static let descriptor = ToolDescriptor(
            name: "dns.blocklist_list", summary: "fake", effect: .read, inputSchema: .object([:]))
        let fake: FakeNames
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            let lists = fake.lists.withLock { $0 }
            return .read {
                [
                    "lists": .array(
                        lists.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "source": .string($0.value)] })
                ]
            }
        }
    }
    struct ListRemove: Tool {
        struct Input: Decodable, Sendable { var name: String }
        static let descriptor = ToolDescriptor(
            name: "dns.blocklist_remove", summary: "fake", effect: .change,
            inputSchema: .object(["name": .string("List")]))
        let fake: FakeNames
        func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
            .change([Change("remove", "list \(input.name)")]) { [fake] in
                _ = fake.lists.withLock { $0.removeValue(forKey: input.name) }
                return ["name": .string(input.name)]
            }
        }
    }
}
