import AiosCore
import AiosStore
import AiosTesting
import Foundation
import Logging
import Synchronization
import Testing

@testable import AiosGoals

/// The reconciler against the real pipeline, a fake nf_tables and records in memory.
@Suite("goal reconciler")
struct ReconcilerTests {
    static let web =
        "kind: FirewallRule\nname: web\nspec: {action: allow, protocol: tcp, port: 8080, source: 10.0.0.0/8}\n"

    @Test("a dropped goal's rule is made and owned; removed behind its back it comes back; retracted it goes")
    func applyDriftRetract() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/web.yaml", Self.web)
            #expect(await lab.waitFor("web", "applied"))
            let owned = try await lab.store.goalResources("web")
            try #require(owned.map(\.kind) == ["firewall.rule"])
            #expect(try await lab.rules().keys.sorted() == owned.map(\.id))
            #expect(lab.elements() == 1)
            // Every call of the goal names it in the audit.
            let audit = try await lab.store.events(AuditQuery(subject: "goal:web", limit: 10))
            #expect(audit.contains { $0.tool == "firewall.allow" && $0.origin == "goal" })
            // The status file says so.
            await lab.reconciler.statusFilesFlushed()
            let status = try JSONValue(
                parsing: String(contentsOfFile: "\(lab.statusDirectory)/web.status.json", encoding: .utf8))
            #expect(status["phase"] == "applied")
            #expect(status["owns"]?.arrayValue?.first?["id"]?.stringValue == owned[0].id)

            // A person removes it: the goal makes it again once the person's calls have settled.
            _ = try await lab.call("firewall.remove", ["id": .string(owned[0].id)])
            lab.clock.advance(by: GoalSettings().driftSettleMs)
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    (try? await lab.store.goalResources("web").first?.id).flatMap { $0 } != owned[0].id
                })
            #expect(await lab.waitFor("web", "applied"))
            #expect(lab.elements() == 1)
            #expect(try await lab.rules().count == 1)

            await lab.reconciler.fileRemoved("/goals/web.yaml")
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    await lab.reconciler.record("web") == nil
                })
            #expect(try await lab.rules().isEmpty)
            #expect(lab.elements() == 0)
            await lab.reconciler.statusFilesFlushed()
            #expect(!FileManager.default.fileExists(atPath: "\(lab.statusDirectory)/web.status.json"))
        }
    }

    @Test("a person's identical rule is not the goal's: retracting the goal leaves it")
    func personRuleSurvives() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            let person = try await lab.call(
                "firewall.allow", ["protocol": "tcp", "port": 8080, "source": "10.0.0.0/8"])
            let id = try #require(person.output?["added"]?.arrayValue?.first?["id"]?.stringValue)
            await lab.drop("/goals/web.yaml", Self.web)
            #expect(await lab.waitFor("web", "applied"))
            #expect(try await lab.store.goalResources("web").isEmpty)
            await lab.reconciler.fileRemoved("/goals/web.yaml")
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    await lab.reconciler.record("web") == nil
                })
            #expect(try await lab.rules().keys.sorted() == [id])
            #expect(lab.elements() == 1)
        }
    }

    @Test("allow and deny of the same traffic are both conflict, naming each other; nothing flaps")
    func conflict() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop(
                "/goals/a.yaml",
                "kind: FirewallRule\nname: open\nspec: {action: allow, port: 25, source: 192.0.2.0/24}\n")
            #expect(await lab.waitFor("open", "applied"))
            let commits = lab.kernel.commits
            await lab.drop(
                "/goals/b.yaml",
                "kind: FirewallRule\nname: shut\nspec: {action: deny, port: 25, source: 192.0.2.0/24}\n")
            #expect(await lab.waitFor("shut", "conflict"))
            // `open` is looked at again on its resync; make it now.
            await lab.reconciler.enqueue("open")
            #expect(await lab.waitFor("open", "conflict"))
            #expect(await lab.reconciler.record("shut")?.conditions.first?.message.contains("open") == true)
            #expect(await lab.reconciler.record("open")?.conditions.first?.message.contains("shut") == true)
            for _ in 0..<5 { await lab.reconciler.enqueue("open"); await lab.reconciler.enqueue("shut") }
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in await lab.reconciler.queue.isEmpty })
            #expect(lab.kernel.commits == commits)
        }
    }

    @Test("an expiry ends the goal: its rule is removed and it says expired")
    func expiry() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop(
                "/goals/t.yaml", "kind: FirewallRule\nname: brief\nexpires: 2m\nspec: {action: allow, port: 81}\n")
            #expect(await lab.waitFor("brief", "applied"))
            let record = try #require(await lab.reconciler.record("brief"))
            #expect(record.expiresMs == record.firstSeenMs + 120_000)
            #expect(record.nextCheckMs == record.expiresMs)
            lab.clock.advance(by: 121_000)
            await lab.reconciler.enqueue("brief")
            #expect(await lab.waitFor("brief", "expired"))
            #expect(try await lab.rules().isEmpty)
            #expect(try await lab.store.goalResources("brief").isEmpty)
        }
    }

    @Test("a file that becomes invalid keeps its last generation in force and says why")
    func invalidKeepsGeneration() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/web.yaml", Self.web)
            #expect(await lab.waitFor("web", "applied"))
            let generation = await lab.reconciler.record("web")?.appliedGeneration
            let rules = try await lab.rules()
            await lab.drop("/goals/web.yaml", "kind: FirewallRule\nname: web\nspec: {action: allow, chain: sideways}\n")
            #expect(await lab.waitFor("web", "invalid"))
            let message = await lab.reconciler.record("web")?.conditions.first?.message ?? ""
            #expect(message.contains("/goals/web.yaml:3"), "\(message)")
            #expect(message.contains("keeping generation \(generation ?? "?")"), "\(message)")
            #expect(try await lab.rules() == rules)
            #expect(await lab.reconciler.refusedFiles()["/goals/web.yaml"] != nil)
            // Fixed, it applies again.
            await lab.drop("/goals/web.yaml", Self.web)
            #expect(await lab.waitFor("web", "applied"))
            #expect(await lab.reconciler.refusedFiles().isEmpty)
        }
    }

    @Test("a call whose outcome a crash kept from being recorded is adopted, not duplicated")
    func crashAdoption() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            // As a run killed after its call: the intent row, the rule made, no ownership row.
            let made = try await lab.orchestrator.execute(
                ToolCall(
                    tool: "firewall.allow",
                    input: ["protocol": "tcp", "port": 8080, "source": "10.0.0.0/8", "comment": "goal web"],
                    origin: .goal,
                    subject: "goal:web", id: "crashed-call"))
            let id = try #require(made.output?["added"]?.arrayValue?.first?["id"]?.stringValue)
            try await lab.store.saveGoalIntent(goal: "web", callID: "crashed-call", tool: "firewall.allow", at: 0)
            // The restarted daemon loads what the store holds before it reconciles.
            try await lab.reconciler.load()
            await lab.drop("/goals/web.yaml", Self.web)
            #expect(await lab.waitFor("web", "applied"))
            #expect(try await lab.store.goalResources("web").map(\.id) == [id])
            #expect(try await lab.store.goalIntents("web").isEmpty)
            #expect(try await lab.rules().count == 1)
        }
    }

    @Test("DNSRecords: missing records are set and owned; a name served otherwise by someone else fails the goal")
    func records() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop(
                "/goals/r.yaml",
                "kind: DNSRecords\nname: lan\nspec:\n  records:\n    - {name: nas.lan, address: 192.168.1.20}\n")
            #expect(await lab.waitFor("lan", "applied"))
            #expect(lab.records.records.withLock { $0 } == ["nas.lan": ["192.168.1.20"]])
            #expect(try await lab.store.goalResources("lan").map(\.id) == ["nas.lan"])
            lab.records.records.withLock { $0["printer.lan"] = ["192.168.1.9"] }
            await lab.drop(
                "/goals/p.yaml", "kind: DNSRecords\nname: printer\nspec: {name: printer.lan, address: 192.168.1.30}\n")
            #expect(await lab.waitFor("printer", "failed"))
            #expect(await lab.reconciler.record("printer")?.conditions.first?.message.contains("someone else") == true)
            await lab.reconciler.fileRemoved("/goals/r.yaml")
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    await lab.reconciler.record("lan") == nil
                })
            #expect(lab.records.records.withLock { $0 } == ["printer.lan": ["192.168.1.9"]])
        }
    }
}

@Suite("goal reconciler: edits")
struct ReconcilerEditTests {
    @Test("an edited spec makes the new rule before it removes the old one, and owns only the new")
    func edit() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/web.yaml", ReconcilerTests.web)
            #expect(await lab.waitFor("web", "applied"))
            let old = try await lab.store.goalResources("web").map(\.id)
            await lab.drop(
                "/goals/web.yaml",
                "kind: FirewallRule\nname: web\nspec: {action: allow, protocol: tcp, port: 8080, source: 192.168.7.0/24}\n"
            )
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    (try? await lab.store.goalResources("web").map(\.id)).map { $0 != old && $0.count == 1 } == true
                })
            let rules = try await lab.rules()
            let state = await lab.reconciler.record("web")
            #expect(rules.count == 1)
            #expect(state?.phase == "applied", "\(String(describing: state))")
            #expect(rules.values.first?.contains("192.168.7.0/24") == true, "\(rules)")
            // A comment-only edit keeps the same rule (found in force, still owned).
            let current = try await lab.store.goalResources("web").map(\.id)
            await lab.drop(
                "/goals/web.yaml",
                "kind: FirewallRule\nname: web\nlabels: {x: y}\nspec: {action: allow, protocol: tcp, port: 8080, source: 192.168.7.0/24}\n"
            )
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    await lab.reconciler.record("web")?.labelsApplied == true
                })
            #expect(try await lab.store.goalResources("web").map(\.id) == current)
            #expect(try await lab.rules().count == 1)
            // An overlapping range cannot stand beside the old one: the old goes first.
            await lab.drop(
                "/goals/web.yaml",
                "kind: FirewallRule\nname: web\nspec: {action: allow, port: 8080, source: 192.168.0.0/16}\n")
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    (try? await lab.rules().values.first?.contains("192.168.0.0/16")) == true
                })
            #expect(try await lab.rules().count == 1)
        }
    }
}

extension GoalRecord {
    /// True once the applied generation carries labels (the test's second edit).
    var labelsApplied: Bool { appliedDocument?["labels"] != nil && phase == "applied" }
}

@Suite("goal reconciler: BlockDomains")
struct BlockDomainsTests {
    @Test(
        "lists and names are added and owned; names someone else blocked stay theirs; an edit drops what is no longer wanted"
    )
    func blockDomains() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            lab.names.blocked.withLock { _ = $0.insert("theirs.example") }
            await lab.drop(
                "/goals/b.yaml",
                """
                kind: BlockDomains
                name: no-ads
                spec:
                  lists: [{name: ads, source: /lists/ads.txt}]
                  names: [tracker.example, theirs.example]
                  allow: [cdn.example]

                """)
            #expect(await lab.waitFor("no-ads", "applied"))
            #expect(lab.names.lists.withLock { $0 } == ["ads": "/lists/ads.txt"])
            #expect(lab.names.blocked.withLock { $0 } == ["tracker.example", "theirs.example"])
            #expect(lab.names.allowed.withLock { $0 } == ["cdn.example"])
            let owned = try await lab.store.goalResources("no-ads").map { "\($0.kind) \($0.id)" }
            #expect(owned == ["dns.allowed cdn.example", "dns.blocked tracker.example", "dns.blocklist ads"])

            // Edited: the list and the allow go, the names stay.
            await lab.drop(
                "/goals/b.yaml", "kind: BlockDomains\nname: no-ads\nspec: {names: [tracker.example, theirs.example]}\n")
            // The edit is done once what it owns is the new generation's alone.
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    (try? await lab.store.goalResources("no-ads").map(\.id)) == ["tracker.example"]
                })
            #expect(lab.names.lists.withLock { $0.isEmpty })
            #expect(lab.names.allowed.withLock { $0.isEmpty })
            #expect(await lab.waitFor("no-ads", "applied"))

            // Retracted: only what it owned goes.
            await lab.reconciler.fileRemoved("/goals/b.yaml")
            #expect(
                await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                    await lab.reconciler.record("no-ads") == nil
                })
            #expect(lab.names.blocked.withLock { $0 } == ["theirs.example"])
        }
    }

    @Test("a goal that blocks a name another allows: both conflict")
    func conflict() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/a.yaml", "kind: BlockDomains\nname: deny-x\nspec: {names: [x.example]}\n")
            await lab.drop("/goals/b.yaml", "kind: BlockDomains\nname: allow-x\nspec: {allow: [x.example]}\n")
            #expect(await lab.waitFor("allow-x", "conflict"))
            await lab.reconciler.enqueue("deny-x")
            #expect(await lab.waitFor("deny-x", "conflict"))
        }
    }
}

@Suite("goal reconciler: triggers")
struct TriggerTests {
    @Test("kernel events requeue the kinds that watch the kernel; someone's firewall change the kinds that watch it")
    func triggers() async throws {
        let (kinds, store) = try GoalLab.kinds()
        let clock = ManualClock()
        let reconciler = GoalReconciler(
            kinds: kinds, store: store, clock: clock, settings: GoalSettings(), logger: .init(label: "t"))
        await reconciler.fileChanged(
            "/goals/a.yaml",
            content: .success(
                """
                kind: FirewallRule
                name: web
                spec: {action: allow, port: 80}
                ---
                kind: BlockDomains
                name: ads
                spec: {names: [ads.example]}
                ---
                kind: Connectivity
                name: boot
                spec: {}
                """))
        #expect(await reconciler.takeQueue() == ["web", "ads", "boot"])
        await reconciler.kernelChanged()
        #expect(await reconciler.takeQueue() == ["boot"])
        // Someone else's calls: the goals watching them look again once the burst has settled.
        let settle = GoalSettings().driftSettleMs
        await reconciler.observed(tool: "dns.unblock", origin: .user)
        #expect(await reconciler.enqueueDue() == clock.nowMs() + settle)
        #expect(await reconciler.takeQueue().isEmpty)
        clock.advance(by: settle / 2)
        await reconciler.observed(tool: "firewall.remove", origin: .user)
        #expect(await reconciler.enqueueDue() == clock.nowMs() + settle / 2)
        clock.advance(by: settle / 2)
        _ = await reconciler.enqueueDue()
        #expect(Set(await reconciler.takeQueue()) == ["ads", "web"])
        await reconciler.observed(tool: "firewall.remove", origin: .user)
        clock.advance(by: settle)
        #expect(await reconciler.enqueueDue() == nil)
        #expect(await reconciler.takeQueue() == ["web"])
        // The goals' own calls are not drift.
        await reconciler.observed(tool: "firewall.remove", origin: .goal)
        clock.advance(by: settle)
        _ = await reconciler.enqueueDue()
        #expect(await reconciler.takeQueue().isEmpty)
    }
}

@Suite("goal reconciler: failures")
struct FailureTests {
    @Test("a goal that keeps failing backs off (capped, growing) and says why and when it retries")
    func backoff() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            // The firewall table is gone: every allow fails.
            lab.kernel.deleteTable("aios_firewall")
            await lab.drop("/goals/web.yaml", ReconcilerTests.web)
            #expect(await lab.waitFor("web", "failed"))
            var delays: [Int64] = []
            for attempt in 1...4 {
                let record = try #require(await lab.reconciler.record("web"))
                #expect(record.failures == attempt)
                #expect(record.conditions.first?.message.contains("retrying in") == true)
                let delay = (record.nextCheckMs ?? 0) - lab.clock.nowMs()
                delays.append(delay)
                lab.clock.advance(by: delay)
                #expect(
                    await Poll.until(seconds: GoalLab.patience) { () async -> Bool in
                        await lab.reconciler.record("web")?.failures == attempt + 1
                    })
            }
            // 1 s, 2 s, 4 s, 8 s, each shortened by at most 20 % jitter.
            for (index, delay) in delays.enumerated() {
                let full = Int64(1000 << index)
                #expect(delay <= full && delay >= full * 8 / 10, "\(delays)")
            }
        }
    }

    @Test("two goals giving one name two addresses are both conflict")
    func recordConflict() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/a.yaml", "kind: DNSRecords\nname: a\nspec: {name: nas.lan, address: 10.0.0.2}\n")
            #expect(await lab.waitFor("a", "applied"))
            await lab.drop("/goals/b.yaml", "kind: DNSRecords\nname: b\nspec: {name: nas.lan, address: 10.0.0.3}\n")
            #expect(await lab.waitFor("b", "conflict"))
            #expect(lab.records.records.withLock { $0 } == ["nas.lan": ["10.0.0.2"]])
        }
    }
}

@Suite("goal reconciler: conflicts resolve")
struct ConflictResolutionTests {
    @Test("when one of two conflicting goals goes, the other applies at once")
    func rivalLeaves() async throws {
        try await GoalLab.with { (lab: GoalLab) async throws in
            await lab.drop("/goals/a.yaml", "kind: FirewallRule\nname: open\nspec: {action: allow, port: 25}\n")
            #expect(await lab.waitFor("open", "applied"))
            await lab.drop("/goals/b.yaml", "kind: FirewallRule\nname: shut\nspec: {action: deny, port: 25}\n")
            #expect(await lab.waitFor("shut", "conflict"))
            await lab.reconciler.fileRemoved("/goals/a.yaml")
            #expect(await lab.waitFor("shut", "applied"))
            #expect(try await lab.rules().values.contains { $0.hasPrefix("deny") })
        }
    }
}
