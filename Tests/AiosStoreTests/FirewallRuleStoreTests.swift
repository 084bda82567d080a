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
        var odd = Self.rule("x1", "allow", created: 7, expires: nil)
        odd.specText = #"{"comment":"ünïcode \"quoted\""}"#
        odd.summary = "allow input tcp 22 (café ☕)"
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
}
