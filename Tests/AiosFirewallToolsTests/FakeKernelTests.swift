import AiosCore
import AiosLinux
import AiosStore
import AiosTesting
import Logging
import Testing

@testable import AiosFirewallTools

/// `firewall.allow` and `firewall.remove` planned and applied through the real pipeline against
/// fakes of libnftables and nf_tables: no root, no kernel, milliseconds.
@Suite("firewall entries against a fake kernel")
struct FakeKernelTests {
    struct Harness {
        let orchestrator: Orchestrator
        let kernel: FakeNftablesKernel
        let store: Store

        init() throws {
            kernel = FakeNftablesKernel()
            kernel.addTable("aios_firewall", sets: EntrySets.all.map(\.name))
            store = try Store.temporary()
            var registry = ToolRegistry()
            try registry.install(
                FirewallModule(nft: FakeNftables(), kernel: kernel, store: store, settings: FirewallSettings()))
            orchestrator = Orchestrator(
                registry: registry, policies: PolicyHolder(.permissive), audit: store, guards: store,
                redactor: Redactor(), logger: Logger(label: "test"))
        }

        func call(_ tool: String, _ input: JSONValue) async throws -> CallOutcome {
            try await orchestrator.execute(ToolCall(tool: tool, input: input, origin: .user))
        }

        /// Every element the fake's entry sets hold, by set.
        func elements() -> [String: Int] {
            var out: [String: Int] = [:]
            for set in EntrySets.all.map(\.name) {
                let count = kernel.elements("aios_firewall", set).count
                if count > 0 { out[set] = count }
            }
            return out
        }
    }

    @Test("an allow puts one element in the input allow set and a rule in the store; remove takes both out")
    func allowAndRemove() async throws {
        let lab = try Harness()
        let outcome = try await lab.call("firewall.allow", ["port": 8080, "source": "10.0.0.5"])
        #expect(outcome.status == .applied, "\(outcome)")
        #expect(lab.elements() == ["input_allow_v4_src": 1], "\(lab.elements())")
        let id = try #require(outcome.output?["added"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await lab.store.activeFirewallRules().map(\.id) == [id])

        // The same rule again changes nothing.
        let again = try await lab.call("firewall.allow", ["port": 8080, "source": "10.0.0.5"])
        #expect(again.status == .unchanged)
        #expect(lab.kernel.commits == 1)

        let removed = try await lab.call("firewall.remove", ["ids": [.string(id)]])
        #expect(removed.status == .applied, "\(removed)")
        #expect(lab.elements().isEmpty)
        #expect(try await lab.store.activeFirewallRules().isEmpty)
    }

    @Test("a batch of 300 entries is one transaction; the kernel refusing it leaves the store as it was")
    func batchAllOrNone() async throws {
        let lab = try Harness()
        let entries = (1...300).map {
            JSONValue.object(["port": 9000, "source": .string("10.1.\($0 / 250).\($0 % 250)")])
        }
        let outcome = try await lab.call("firewall.allow", ["entries": .array(entries)])
        #expect(outcome.status == .applied, "\(outcome)")
        #expect(lab.elements() == ["input_allow_v4_src": 300])
        #expect(lab.kernel.commits == 1)

        // Without its table the kernel refuses the transaction: the call fails, naming the repair,
        // and no rule is stored.
        lab.kernel.deleteTable("aios_firewall")
        do {
            _ = try await lab.call("firewall.allow", ["port": 22, "source": "10.9.9.9"])
            Issue.record("the call succeeded without a table")
        } catch let error as AiosError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("firewall.apply_default"), "\(error)")
        }
        #expect(try await lab.store.activeFirewallRules().count == 300)
    }
}
