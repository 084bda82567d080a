import AiosCore
import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Many goal files at once, and a kill -9 in the middle of reconciling them, against the real
/// kernel (the `FirewallDefaultTests` topology, default ruleset confirmed).
@Suite("goal files at scale, real nftables", .serialized)
struct GoalScaleTests {
    typealias G = GoalDirectoryTests

    /// Writes `count` FirewallRule goals (port 20000 + i from 10.60.0.3), each renamed in.
    static func dropMany(_ topology: FirewallDefaultTests.Topology, _ count: Int, prefix: String) throws {
        for index in 0..<count {
            try G.drop(
                topology, "\(prefix)-\(index).yaml",
                "kind: FirewallRule\nname: \(prefix)-\(index)\nspec: {action: allow, port: \(20000 + index), source: 10.60.0.3}\n"
            )
        }
    }

    /// Phase counts from `goals --json`.
    static func counts(_ topology: FirewallDefaultTests.Topology) -> [String: Int] {
        ((try? G.goals(topology))?["counts"] as? [String: Int]) ?? [:]
    }

    /// The rules in force, from `firewall.list`.
    static func rules(_ topology: FirewallDefaultTests.Topology) throws -> [[String: Any]] {
        let (_, value) = try topology.daemon.json(["call", "firewall.list", #"{"limit": 100000}"#])
        return ((value as? [String: Any])?["output"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
    }

    /// Elements in the source-port allow set.
    static func elements(_ topology: FirewallDefaultTests.Topology) throws -> Int {
        try FirewallEntryTests.elements(topology, set: "input_allow_v4_src").count
    }

    @Test("1,000 goal files dropped at once all reach applied, one rule and one element each")
    func thousand() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            try Self.dropMany(topology, 1000, prefix: "g")
            #expect(Poll.until(seconds: 120, every: .milliseconds(250)) { Self.counts(topology)["applied"] == 1000 })
            #expect(Self.counts(topology) == ["applied": 1000])
            #expect(try Self.rules(topology).count == 1000)
            #expect(try Self.elements(topology) == 1000)
        }
    }

    typealias F = FirewallDefaultTests

    @Test("kill -9 during a reconcile of 200 goals: after the restart all are applied, none duplicated or orphaned")
    func killDuringReconcile() async throws {
        try await Lab.with { lab in
            var topology = try FirewallEntryTests.prepared(lab)
            try Self.dropMany(topology, 200, prefix: "k")
            // Killed once some, not all, are applied.
            #expect(Poll.until(seconds: 60, every: .milliseconds(5)) { (Self.counts(topology)["applied"] ?? 0) >= 20 })
            let killed = topology.daemon.stop(signal: SIGKILL)
            #expect(killed)
            try topology.daemon.start()
            #expect(Poll.until(seconds: 120, every: .milliseconds(250)) { Self.counts(topology)["applied"] == 200 })
            let rules = try Self.rules(topology)
            #expect(rules.count == 200, "\(rules.count) rules")
            #expect(Set(rules.compactMap { $0["summary"] as? String }).count == 200)
            #expect(try Self.elements(topology) == 200)
            // Each goal owns exactly its one rule, and every rule is owned.
            var owned: Set<String> = []
            for index in stride(from: 0, to: 200, by: 1) {
                let (_, value) = try topology.daemon.json(["goal", "status", "k-\(index)"])
                let owns = (value as? [String: Any])?["owns"] as? [[String: Any]] ?? []
                #expect(owns.count == 1, "k-\(index) owns \(owns.count)")
                owned.formUnion(owns.compactMap { $0["id"] as? String })
            }
            #expect(owned == Set(rules.compactMap { $0["id"] as? String }))
        }
    }
}
