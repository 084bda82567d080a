import AiosCore
import AiosGoals
import AiosStore
import AiosTesting
import Foundation
import Logging
import Testing

@testable import AiosDaemon

@Suite("the assembled daemon")
struct AssemblyTests {
    func orchestrator(log: CapturedLog = CapturedLog(), redactor: Redactor = Redactor()) throws -> (Orchestrator, Store)
    {
        let store = try Store.temporary()
        let registry = try Assembly.registry(
            DaemonOptions(
                dataDirectory: (store.path as NSString).deletingLastPathComponent, socketPath: "/unused", labTools: true
            ),
            store: store, nft: FakeNftables(), logger: Logger(label: "test"))
        let logger = log.logger { RedactingLogHandler(wrapping: $0, redactor: redactor) }
        return (
            Orchestrator(
                registry: registry, policies: PolicyHolder(.permissive), audit: store, guards: store,
                redactor: redactor,
                logger: logger), store
        )
    }

    @Test("net.interfaces and net.routes are registered as read tools with schemas")
    func registered() throws {
        let (orchestrator, _) = try orchestrator()
        for name in ["net.interfaces", "net.routes"] {
            let descriptor = try #require(orchestrator.registry.descriptor(named: name))
            #expect(descriptor.effect == .read)
            #expect(descriptor.inputSchema.document["type"] == "object")
        }
    }

    @Test("every tool's schema examples validate and decode through the pipeline (dry run)")
    func examplesDecode() async throws {
        let (orchestrator, _) = try orchestrator()
        for descriptor in orchestrator.registry.descriptors {
            #expect(!descriptor.inputSchema.examples.isEmpty, "\(descriptor.name) has no example")
            for example in descriptor.inputSchema.examples {
                // Planning may stop on the (fake, empty) machine state; it must not stop on the input.
                do {
                    let outcome = try await orchestrator.execute(
                        ToolCall(tool: descriptor.name, input: example, origin: .user, dryRun: true))
                    #expect(outcome.status == .planned)
                } catch let error as AiosError {
                    #expect(error.code != .invalidInput, "\(descriptor.name) \(example.jsonText): \(error)")
                }
            }
        }
    }

    @Test("a planted secret reaches no log line, audit row or output (redacting log handler)")
    func secretScan() async throws {
        let log = CapturedLog()
        let (orchestrator, store) = try orchestrator(log: log)
        let secret = "sk-planted-\(UInt64.random(in: 100_000_000...999_999_999))"
        let outcome = try await orchestrator.execute(
            ToolCall(tool: "lab.secret_use", input: ["label": "demo", "api_key": .string(secret)], origin: .user))
        let failed = try? await orchestrator.execute(
            ToolCall(tool: "lab.secret_use", input: ["label": 7, "api_key": .string(secret)], origin: .user))
        #expect(failed == nil)
        let raw = try? await orchestrator.execute(
            ToolCall(tool: "lab.secret_use", origin: .user, rawInput: "{\"api_key\": \"\(secret)\", broken"))
        #expect(raw == nil)
        let events = try await store.events(AuditQuery(limit: 100))
        #expect(events.count == 3)
        let haystack = [log.text, try JSONValue(encoding: outcome).jsonText, try JSONValue(encoding: events).jsonText]
            .joined(separator: "\n")
        #expect(!haystack.contains(secret))
        #expect(haystack.contains("<redacted>"))
        #expect(outcome.output?["key_length"] == .number(Double(secret.count)))
    }
}

@Suite("the assembled goals")
struct AssembledGoalsTests {
    @Test("goal kinds over the real tools: goal.* tools installed, every example loads, published schemas current")
    func goalsAssembled() throws {
        let store = try Store.temporary()
        var options = DaemonOptions(
            dataDirectory: (store.path as NSString).deletingLastPathComponent, socketPath: "/unused/control.sock")
        options.goalsDirectory = "/unused/goals.d"
        var registry = try Assembly.registry(options, store: store, nft: FakeNftables(), logger: Logger(label: "test"))
        let reconciler = try Assembly.installGoals(
            options, into: &registry, store: store, clock: SystemClock(), logger: Logger(label: "test"))
        for tool in ["goal.list", "goal.status", "goal.plan"] {
            #expect(registry.descriptor(named: tool)?.effect == .read, "\(tool)")
        }
        let kinds = reconciler.goalKinds
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/goals").path
        var seen: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: root).filter({ $0.hasSuffix(".yaml") }) {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            seen.formUnion(try GoalFile.parse(text, file: file, kinds: kinds).map(\.kind))
        }
        #expect(seen == Set(kinds.names), "kinds without an example: \(Set(kinds.names).subtracting(seen))")
        for kind in kinds.names {
            let path = "\(root)/schema/\(kind).schema.json"
            let published = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(
                published.flatMap { try? JSONValue(parsing: $0) } == GoalSchemas.document(kind, kinds: kinds),
                "Examples/goals/schema/\(kind).schema.json is stale: regenerate it with `aios-net goal schema \(kind)`")
        }
        // The status directory is never the watch directory.
        options.goalsDirectory = "/unused/goals"
        var again = try Assembly.registry(options, store: store, nft: FakeNftables(), logger: Logger(label: "test"))
        _ = try Assembly.installGoals(
            options, into: &again, store: store, clock: SystemClock(), logger: Logger(label: "test"))
        options.goalStatusDirectory = "/unused/goals/"
        var refused = try Assembly.registry(options, store: store, nft: FakeNftables(), logger: Logger(label: "test"))
        #expect(throws: AiosError.self) {
            _ = try Assembly.installGoals(
                options, into: &refused, store: store, clock: SystemClock(), logger: Logger(label: "test"))
        }
    }
}
