import AiosCore
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
