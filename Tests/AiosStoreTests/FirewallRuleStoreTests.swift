import AiosCore
import Foundation
import GRDB
import Testing

@testable import AiosStore

@Suite("firewall rules in the store")
struct FirewallRuleStoreTests {
    static func rule(_ id: String, _ verdict: String, created: Int64, expires: Int64?) -> FirewallRuleRecord {
        FirewallRuleRecord(
            id: id, verdict: verdict, specText: "{}", summary: id, origin: "user", createdMs: created,
            expiresMs: expires, expiresText: expires.map { "\($0)ms" })
    }

    /// A rule whose texts hold quotes and non-ASCII.
    static func odd(_ id: String, created: Int64) -> FirewallRuleRecord {
        var odd = rule(id, "allow", created: created, expires: nil)
        odd.specText = #"{"comment":"ünïcode \"quoted\""}"#
        odd.summary = "allow input tcp 22 (café ☕)"
        return odd
    }

    @Test("kept counts follow inserts and ends, leave out the expired-not-ended, and agree with the rows")
    func counts() async throws {
        let store = try Store.temporary()
        try await store.insertFirewallRules([
            Self.rule("a", "allow", created: 1, expires: 100), Self.rule("b", "allow", created: 2, expires: nil),
            Self.rule("c", "deny", created: 3, expires: 50), Self.rule("d", "deny", created: 4, expires: 500),
        ])
        #expect(try await store.firewallRuleCounts(unexpiredAt: 10) == ["allow": 2, "deny": 2])
        // c has expired but is not ended yet: not counted.
        #expect(try await store.firewallRuleCounts(unexpiredAt: 60) == ["allow": 2, "deny": 1])
        #expect(try await store.endFirewallRules(ids: ["c", "a", "nope", "a"], state: "expired", endedMs: 60) == 2)
        #expect(try await store.firewallRuleCounts(unexpiredAt: 60) == ["allow": 1, "deny": 1])
        #expect(try await store.endFirewallRules(ids: ["d"], state: "removed", endedMs: 61) == 1)
        #expect(try await store.firewallRuleCounts(unexpiredAt: 61) == ["allow": 1])
        let rows = try await store.activeFirewallRules(unexpiredAt: 61)
        #expect(Dictionary(grouping: rows, by: \.verdict).mapValues(\.count) == ["allow": 1])
    }

    @Test("a failed removal's rows come back active with their counts; rules ended at another time stay ended")
    func reactivate() async throws {
        let store = try Store.temporary()
        try await store.insertFirewallRules([
            Self.rule("a", "allow", created: 1, expires: nil), Self.rule("b", "deny", created: 2, expires: nil),
            Self.rule("c", "allow", created: 3, expires: nil),
        ])
        #expect(try await store.endFirewallRules(ids: ["c"], state: "expired", endedMs: 40) == 1)
        #expect(try await store.endFirewallRules(ids: ["a", "b"], state: "removed", endedMs: 50) == 2)
        #expect(try await store.firewallRuleCounts(unexpiredAt: 60).isEmpty)
        // c was ended at 40 (by another call): it is not this removal's to undo.
        #expect(try await store.reactivateFirewallRules(ids: ["a", "b", "c", "nope"], endedMs: 50) == 2)
        #expect(try await store.firewallRuleCounts(unexpiredAt: 60) == ["allow": 1, "deny": 1])
        let rows = try await store.activeFirewallRules()
        #expect(rows.map(\.id).sorted() == ["a", "b"])
        #expect(rows.allSatisfy { $0.state == "active" && $0.endedMs == nil })
        #expect(try await store.reactivateFirewallRules(ids: ["a", "b"], endedMs: 50) == 0)
    }

    @Test("every field reads back as written (text with quotes and non-ASCII, nulls); a failing row commits none")
    func roundTripAndFailure() async throws {
        let store = try Store.temporary()
        let odd = Self.odd("x1", created: 7)
        let plain = Self.rule("x2", "deny", created: 8, expires: 900)
        try await store.insertFirewallRules([odd, plain])
        let rows = try await store.activeFirewallRules()
        #expect(rows.sorted { $0.id < $1.id } == [odd, plain])
        // The second row repeats an id: the whole batch is refused, the first row with it.
        await #expect(throws: (any Error).self) {
            try await store.insertFirewallRules([Self.rule("x3", "allow", created: 9, expires: nil), plain])
        }
        #expect(try await store.activeFirewallRules().map(\.id).sorted() == ["x1", "x2"])
        #expect(try await store.firewallRuleCounts(unexpiredAt: 10) == ["allow": 1, "deny": 1])
    }

    @Test("the first rules: soonest expiry first, permanent ones last, none expired, at most the limit")
    func firstRules() async throws {
        let store = try Store.temporary()
        try await store.insertFirewallRules([
            Self.rule("p2", "allow", created: 5, expires: nil), Self.rule("late", "allow", created: 1, expires: 900),
            Self.rule("p1", "deny", created: 2, expires: nil), Self.rule("soon", "deny", created: 3, expires: 200),
            Self.rule("gone", "allow", created: 4, expires: 20), Self.rule("tie", "allow", created: 0, expires: 200),
        ])
        let all = try await store.firewallRules(unexpiredAt: 100, limit: 10).map(\.id)
        #expect(all == ["tie", "soon", "late", "p1", "p2"])
        #expect(try await store.firewallRules(unexpiredAt: 100, limit: 2).map(\.id) == ["tie", "soon"])
        #expect(try await store.firewallRules(unexpiredAt: 100, limit: 4).map(\.id) == ["tie", "soon", "late", "p1"])
    }

    @Test(
        "the first rules, the expired and the next expiry are read through the partial index of active rules, not a scan",
        arguments: [
            "SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms > 1 ORDER BY expires_ms, created_ms LIMIT 5",
            "SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms IS NULL ORDER BY created_ms LIMIT 5",
            "SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms IS NOT NULL AND expires_ms <= 1 ORDER BY expires_ms",
            "SELECT MIN(expires_ms) FROM firewall_rules WHERE state = 'active' AND expires_ms IS NOT NULL",
        ])
    func activeIndex(query: String) async throws {
        let store = try Store.temporary()
        try await store.insertFirewallRules(
            (0..<50).map { Self.rule("r\($0)", "allow", created: Int64($0), expires: 100) })
        let plan = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + query).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING") && $0.contains("INDEX firewall_rules_active") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN firewall_rules") && !$0.contains("INDEX") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "sorted by the index: \(plan)")
    }

    @Test("a journaled batch reads back field for field through every read, and is written out as rows by the first")
    func journal() async throws {
        let store = try Store.temporary()
        let odd = Self.odd("j1", created: 7)
        let batch = [
            odd, Self.rule("j2", "deny", created: 7, expires: 900), Self.rule("j3", "allow", created: 7, expires: 50),
        ]
        let before = store.firewallRulesGeneration
        try await store.journalFirewallRules(batch, marker: ("firewall.pending_batch.j1", ["created_ms": 7]))
        #expect(store.firewallRulesGeneration != before, "a reader's cache reloads")
        #expect(try await store.setting("firewall.pending_batch.j1") == ["created_ms": 7], "committed with the entry")
        #expect(try await Self.shape(store) == [1, 0], "one entry, no rows yet")
        #expect(try await store.firewallRuleCounts(unexpiredAt: 10) == ["allow": 2, "deny": 1])
        #expect(try await Self.shape(store) == [0, 3], "written out by the read")
        #expect(try await store.activeFirewallRules(createdAt: 7) == batch)
        #expect(try await store.expiredFirewallRules(at: 60).map(\.id) == ["j3"])
        #expect(try await store.nextFirewallExpiry() == 50)
        // A small insert after it, and an end across both.
        try await store.insertFirewallRules([Self.rule("s1", "allow", created: 8, expires: nil)])
        #expect(try await store.endFirewallRules(ids: ["j2", "s1"], state: "removed", endedMs: 9) == 2)
        #expect(try await store.firewallRuleCounts(unexpiredAt: 10) == ["allow": 2])
    }

    @Test("every read and change writes journaled batches out first, in the order they were journaled")
    func journalBeforeEveryUse() async throws {
        let reads: [(String, @Sendable (Store) async throws -> Void)] = [
            ("active", { _ = try await $0.activeFirewallRules() }),
            ("active unexpired", { _ = try await $0.activeFirewallRules(unexpiredAt: 0) }),
            ("created at", { _ = try await $0.activeFirewallRules(createdAt: 1) }),
            ("counts", { _ = try await $0.firewallRuleCounts(unexpiredAt: 0) }),
            ("first rules", { _ = try await $0.firewallRules(unexpiredAt: 0, limit: 1) }),
            ("expired", { _ = try await $0.expiredFirewallRules(at: 0) }),
            ("next expiry", { _ = try await $0.nextFirewallExpiry() }),
            ("end", { _ = try await $0.endFirewallRules(ids: ["none"], state: "removed", endedMs: 1) }),
            ("reactivate", { _ = try await $0.reactivateFirewallRules(ids: ["none"], endedMs: 1) }),
            ("insert", { try await $0.insertFirewallRules([Self.rule("z", "allow", created: 3, expires: nil)]) }),
        ]
        for (name, read) in reads {
            let store = try Store.temporary()
            try await store.journalFirewallRules([Self.rule("a", "allow", created: 1, expires: nil)])
            try await store.journalFirewallRules([Self.rule("b", "deny", created: 2, expires: nil)])
            try await read(store)
            #expect(try await Self.journaled(store) == 0, "\(name)")
            let order = try await store.pool.read { db in
                try String.fetchAll(db, sql: "SELECT id FROM firewall_rules ORDER BY rowid")
            }
            #expect(order.prefix(2) == ["a", "b"], "\(name)")
        }
    }

    @Test("a batch journaled by a store that then went away (a crash) is found and written out by the next one")
    func journalAfterCrash() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "aios-journal-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let first = try Store(dataDirectory: directory)
            try await first.journalFirewallRules([Self.rule("k1", "allow", created: 5, expires: nil)])
        }
        let second = try Store(dataDirectory: directory)
        #expect(try await Self.journaled(second) == 1)
        #expect(try await second.activeFirewallRules().map(\.id) == ["k1"])
        #expect(try await Self.journaled(second) == 0)
    }

    @Test("a journal entry that is not one, or is cut short, is refused with the byte it stopped at")
    func journalMalformed() throws {
        let blob = FirewallRowJournal.encode([Self.rule("m1", "allow", created: 1, expires: 2)])
        #expect(try FirewallRowJournal(blob).count == 1)
        let cut = #expect(throws: AiosError.self) { try FirewallRowJournal(Array(blob.dropLast(3))) }
        #expect(cut?.message.contains("cut short") == true)
        let other = #expect(throws: AiosError.self) { try FirewallRowJournal([9] + blob.dropFirst()) }
        #expect(other?.message.contains("unknown format") == true)
    }

    static func journaled(_ store: Store) async throws -> Int {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM firewall_rule_journal") ?? 0 }
    }

    /// Journal entries and rows.
    static func shape(_ store: Store) async throws -> [Int] {
        let rows = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM firewall_rules") ?? 0
        }
        return [try await journaled(store), rows]
    }
}
