import AiosLinux
import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Drift in the entry sets (the elements behind `firewall.allow/deny` rules), in the topology of
/// `FirewallDefaultTests`: found by `firewall.status {"entries": true}`, repaired by
/// `firewall.reconcile {"entries": true}`, and checked at start after a run that did not stop cleanly.
@Suite("firewall entry sets: drift found, repaired, and checked after a crash", .serialized)
struct FirewallEntryDriftTests {
    typealias F = FirewallDefaultTests
    typealias E = FirewallEntryTests

    /// `firewall.status {"entries": true}`'s output.
    static func entryStatus(_ topology: F.Topology) throws -> [String: Any] {
        let (result, value) = try topology.daemon.json(["call", "firewall.status", #"{"entries": true}"#])
        #expect(result.status == 0, "\(result.stderr)")
        return ((value as? [String: Any])?["output"] as? [String: Any]) ?? [:]
    }

    static func nft(_ topology: F.Topology, _ arguments: String...) throws {
        try Shell.check(["ip", "netns", "exec", topology.server, "nft"] + arguments)
    }

    /// A host rule the client's .3 address uses and a range rule (an interval-set box), both for
    /// 1 h, and three more rules of the other set layouts.
    static func addRules(_ topology: F.Topology) throws -> (host: String, range: String) {
        let host = E.addedID(
            try topology.daemon.json([
                "call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3", "expires": "1h"}"#,
            ]).0)
        let range = E.addedID(
            try topology.daemon.json([
                "call", "firewall.allow", #"{"port": "9000-9010", "source": "10.70.0.0/16", "expires": "1h"}"#,
            ]).0)
        // One rule of each other set layout the kernel's bytes are read in: an interface box (one
        // name, and a wildcard), an IPv6 box and an exact destination.
        for rule in [
            #"{"port": 443, "interface": "s0", "source": "10.80.0.0/24", "expires": "1h"}"#,
            #"{"port": 8443, "interface": "s*", "source": "10.81.0.0/24", "expires": "1h"}"#,
            #"{"protocol": "icmp", "source": "fd00:1::/64"}"#,
            #"{"chain": "output", "protocol": "udp", "port": 53, "destination": "10.90.0.5"}"#,
        ] {
            #expect(E.addedID(try topology.daemon.json(["call", "firewall.allow", rule]).0) != nil, "\(rule)")
        }
        return (try #require(host), try #require(range))
    }

    /// A batch of 1,000 host rules on port 8080, from `10.<octet>.0.1` on, expiring in 1 h.
    static func batch(octet: Int) -> String {
        let entries = (0..<1000).map { #"{"port": 8080, "source": "10.\#(octet).\#($0 / 250).\#($0 % 250 + 1)"}"# }
        return "{\"entries\": [\(entries.joined(separator: ","))], \"expires\": \"1h\"}"
    }

    /// The ids of the listed rules from `10.<octet>.`.
    static func ids(_ topology: F.Topology, octet: Int) throws -> [String] {
        let listed = try topology.daemon.json(["call", "firewall.list", #"{"limit": 100000}"#]).1
        let rules = ((listed as? [String: Any])?["output"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
        return rules.filter { ($0["summary"] as? String)?.contains("from 10.\(octet).") == true }
            .compactMap { $0["id"] as? String }
    }

    /// `firewall.remove`'s input for `ids`.
    static func removal(_ ids: [String]) -> String {
        "{\"ids\": [\(ids.map { "\"\($0)\"" }.joined(separator: ","))]}"
    }

    static let hostKey = #"["10.60.0.3","tcp",8080]"#
    static let rangeKey = #""range":[9000,9010]"#

    @Test(
        "an element deleted by hand and one added by hand: status with entries names both, reconcile puts the stored one back with its remaining lifetime and takes the other out; the rest keep their timers"
    )
    func driftRepaired() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            let (host, _) = try Self.addRules(topology)
            var status = try Self.entryStatus(topology)
            var entries = status["entries"] as? [String: Any]
            #expect(status["drift"] as? Bool == false, "\(status)")
            #expect(entries?["missing_count"] as? Int == 0 && entries?["unknown_count"] as? Int == 0, "\(status)")
            #expect(entries?["rules"] as? Int == 6 && entries?["in_kernel"] as? Int == 6, "\(status)")
            #expect(try F.status(topology.daemon)["entries"] == nil, "the plain status reads no set whole")

            // Someone takes the .3 allow out and lets .2 in with an element of their own.
            try Self.nft(
                topology, "delete", "element", "inet", "aios_firewall", "input_allow_v4_src",
                "{ 10.60.0.3 . tcp . 8080 }")
            try Self.nft(
                topology, "add", "element", "inet", "aios_firewall", "input_allow_v4_src",
                "{ 10.60.0.2 . tcp . 8080 }")
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.2"))
            let rangeBefore = try #require(try E.remaining(topology, set: "input_allow_v4", key: Self.rangeKey))

            status = try Self.entryStatus(topology)
            entries = status["entries"] as? [String: Any]
            #expect(status["drift"] as? Bool == true, "\(status)")
            let missing = entries?["missing"] as? [[String: Any]] ?? []
            #expect(entries?["missing_count"] as? Int == 1 && missing.first?["rule"] as? String == host, "\(status)")
            let unknown = entries?["unknown"] as? [[String: Any]] ?? []
            let element = try JSONSerialization.data(withJSONObject: unknown.first?["element"] ?? [:])
            #expect(entries?["unknown_count"] as? Int == 1, "\(status)")
            #expect(String(decoding: element, as: UTF8.self).contains("10.60.0.2"), "\(status)")

            let (repair, repaired) = try topology.daemon.json(["call", "firewall.reconcile", #"{"entries": true}"#])
            let output = (repaired as? [String: Any])?["output"] as? [String: Any]
            #expect(output?["elements_added"] as? Int == 1 && output?["elements_deleted"] as? Int == 1, "\(repair)")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
            let back = try #require(try E.remaining(topology, set: "input_allow_v4_src", key: Self.hostKey))
            #expect(back < 3600, "re-added with its remaining lifetime, not a fresh one: \(back)")
            let rangeAfter = try #require(try E.remaining(topology, set: "input_allow_v4", key: Self.rangeKey))
            #expect(
                rangeAfter <= rangeBefore, "an element that was right kept its timer: \(rangeBefore) → \(rangeAfter)")
            #expect(try Self.entryStatus(topology)["drift"] as? Bool == false)
            // Nothing left to repair: the same call again changes nothing.
            let again = try topology.daemon.json(["call", "firewall.reconcile", #"{"entries": true}"#]).1
            #expect((again as? [String: Any])?["status"] as? String == "unchanged", "\(String(describing: again))")
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    /// Holds the write lock of the database at `argv[1]` until it is stopped (by PID).
    static let lockHolder = """
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(600)
        """

    @Test(
        "a 1k removal, whose rows are ended beside its kernel transaction, undoes the half that worked when the other fails: rows back in force when the kernel refuses, elements back with their remaining lifetime when the store does"
    )
    func batchRemovalFailures() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            let set = "input_allow_v4_src"
            let added = try topology.daemon.cli(["call", "firewall.allow", Self.batch(octet: 61)])
            #expect(added.status == 0, "\(added.stderr)")
            let ids = try Self.ids(topology, octet: 61)
            try #require(ids.count == 1000)

            // The kernel half fails: one element is gone already, so deleting the batch's is refused.
            try Self.nft(topology, "delete", "element", "inet", "aios_firewall", set, "{ 10.61.0.1 . tcp . 8080 }")
            let refused = try topology.daemon.cli(["call", "firewall.remove", Self.removal(ids)])
            #expect(refused.status != 0 && refused.stderr.contains("cannot remove the rules"), "\(refused.stderr)")
            #expect(try Self.ids(topology, octet: 61).count == 1000, "the rows ended beside it are in force again")
            #expect(try E.elements(topology, set: set).count == 999, "the transaction changed nothing")
            let repaired = try topology.daemon.json(["call", "firewall.reconcile", #"{"entries": true}"#]).1
            let output = (repaired as? [String: Any])?["output"] as? [String: Any]
            #expect(output?["elements_added"] as? Int == 1, "\(String(describing: repaired))")

            // The store half fails: another process holds the database's write lock past the
            // daemon's busy timeout (5 s) while the kernel deletes the elements.
            let holder = try lab.spawn(
                ["python3", "-c", Self.lockHolder, "\(topology.daemon.dataDirectory)/aios-net.sqlite"], name: "holder")
            #expect(Poll.until(seconds: 10) { holder.stdout.contains("locked") }, "\(holder.stderr)")
            let removal = try lab.spawn(
                [
                    topology.daemon.binary, "call", "firewall.remove", Self.removal(ids), "--json", "--socket",
                    topology.daemon.socket,
                ], name: "removal")
            #expect(Poll.until(seconds: 10) { ((try? E.elements(topology, set: set)) ?? []).isEmpty }, "deleted")
            // The rows' update gives up: the elements go back before the call answers (its audit
            // row waits for the lock too).
            #expect(Poll.until(seconds: 20) { ((try? E.elements(topology, set: set)) ?? []).count == 1000 })
            #expect(lab.stop(holder))
            #expect(Poll.until(seconds: 20) { !Lab.alive(removal.pid) })
            let answer = try? JSONSerialization.jsonObject(with: Data(removal.stdout.utf8)) as? [String: Any]
            let failure = answer?["error"] as? [String: Any]
            #expect(failure?["code"] != nil, "the removal failed: \(removal.stdout) \(removal.stderr)")
            #expect(try Self.ids(topology, octet: 61).count == 1000)
            let left = try E.elements(topology, set: set).compactMap(\.expires)
            #expect(left.count == 1000 && left.allSatisfy { $0 < 3600 }, "back with their remaining lifetime")
            #expect(try Self.entryStatus(topology)["drift"] as? Bool == false)

            // Nothing in the way: the same removal succeeds and empties the set.
            let removed = try topology.daemon.cli(["call", "firewall.remove", Self.removal(ids)])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try E.elements(topology, set: set).isEmpty)
            #expect(try Self.ids(topology, octet: 61).isEmpty)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "an answer several times the socket's buffer arrives whole (firewall.list of 3,000 rules)"
    )
    func bigAnswer() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            for octet in 71...73 {
                let added = try topology.daemon.cli(["call", "firewall.allow", Self.batch(octet: octet)])
                #expect(added.status == 0, "\(added.stderr)")
            }
            // The daemon's answer is compact JSON; the CLI prints it again, pretty.
            let (result, value) = try topology.daemon.json(["call", "firewall.list", #"{"limit": 100000}"#])
            #expect(result.status == 0, "\(result.stderr)")
            let output = (value as? [String: Any])?["output"] as? [String: Any]
            let rules = output?["rules"] as? [[String: Any]] ?? []
            #expect(rules.count == 3000)
            #expect(Set(rules.compactMap { $0["id"] as? String }).count == 3000)
            let wire = try JSONSerialization.data(withJSONObject: output ?? [:])
            let buffer =
                Int(
                    (try? String(contentsOfFile: "/proc/sys/net/core/wmem_default", encoding: .utf8))?
                        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 212_992
            #expect(wire.count > 2 * buffer, "\(wire.count) bytes against a \(buffer)-byte buffer")
            #expect(try Self.ids(topology, octet: 72).count == 1000)
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "repairs running while batches are allowed and removed never undo one or bring one back: the sets end as the store says"
    )
    func repairDuringChanges() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            // Repairs back to back, beside the changes below (each batch's kernel transaction and
            // its rows are a few milliseconds apart: a repair between them used to see the
            // elements as unknown, or the removed rows as missing).
            let loop = """
                i=0; while [ $i -lt 400 ] && [ ! -e "$3" ]; do
                  "$1" call firewall.reconcile '{"entries": true}' --json --socket "$2" >>"$4" 2>&1; i=$((i+1))
                done
                """
            let stop = "\(lab.directory)/stop-repairs"
            let log = "\(lab.directory)/repairs.json"
            let repairs = try lab.spawn(
                ["sh", "-c", loop, "repairs", topology.daemon.binary, topology.daemon.socket, stop, log],
                name: "repairs")
            for round in 0..<8 {
                let (result, added) = try topology.daemon.json([
                    "call", "firewall.allow", Self.batch(octet: 100 + round),
                ])
                let output = (added as? [String: Any])?["output"] as? [String: Any]
                #expect(output?["added_count"] as? Int == 1000, "\(result.stderr)")
                guard round % 2 == 1 else { continue }
                // Every other batch is removed again right away.
                let ids = try Self.ids(topology, octet: 100 + round)
                #expect(ids.count == 1000)
                let removed = try topology.daemon.json(["call", "firewall.remove", Self.removal(ids)])
                #expect(removed.0.status == 0, "\(removed.0.stderr)")
            }
            #expect(FileManager.default.createFile(atPath: stop, contents: nil))
            #expect(Poll.until(seconds: 60) { !ChildProcess.isRunning(repairs.pid) })
            // Nobody else touched the sets: a repair that found anything to do saw a change half done.
            let outcomes = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").filter { !$0.isWhitespace }
            func count(_ status: String) -> Int {
                outcomes.components(separatedBy: "\"status\":\"\(status)\"").count - 1
            }
            #expect(count("unchanged") >= 10, "\(outcomes.prefix(2000))")
            let applied = outcomes.components(separatedBy: "{\"call_id\"").filter {
                $0.contains("\"status\":\"applied\"")
            }
            #expect(applied.isEmpty, "\(applied)")
            let status = try Self.entryStatus(topology)
            let entries = status["entries"] as? [String: Any]
            #expect(status["drift"] as? Bool == false, "\(String(describing: entries))")
            #expect(
                entries?["rules"] as? Int == 4000 && entries?["in_kernel"] as? Int == 4000,
                "\(String(describing: entries))")
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "the same 1k batch sent twice at once: one applies it, the other finds it in force or is refused, no element held by two rules; removed twice at once, both are done"
    )
    func sameBatchAtOnce() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            for round in 0..<6 {
                let batch = Self.batch(octet: 110 + round)
                let calls = try (0..<2).map { index in
                    try lab.spawn(
                        [topology.daemon.binary, "call", "firewall.allow", batch, "--socket", topology.daemon.socket],
                        name: "same-batch-\(round)-\(index)")
                }
                #expect(Poll.until(seconds: 60) { calls.allSatisfy { !ChildProcess.isRunning($0.pid) } })
                let these = try Self.ids(topology, octet: 110 + round)
                #expect(these.count == 1000, "round \(round): \(these.count) rules; \(calls.map(\.stderr))")
                // And removed twice at once: both are done, the second finding nothing left to remove.
                let removes = try (0..<2).map { index in
                    try lab.spawn(
                        [
                            topology.daemon.binary, "call", "firewall.remove", Self.removal(these), "--socket",
                            topology.daemon.socket,
                        ], name: "same-remove-\(round)-\(index)")
                }
                #expect(Poll.until(seconds: 60) { removes.allSatisfy { !ChildProcess.isRunning($0.pid) } })
                for remove in removes { #expect(!remove.stderr.contains("rror"), "\(remove.stderr)") }
            }
            let status = try Self.entryStatus(topology)
            let entries = status["entries"] as? [String: Any]
            #expect(status["drift"] as? Bool == false, "\(status)")
            #expect(entries?["rules"] as? Int == 0 && entries?["in_kernel"] as? Int == 0, "\(status)")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "after a run that did not stop cleanly (SIGKILL) the start repairs the entry sets; after a clean stop it leaves them alone"
    )
    func checkedAfterCrash() async throws {
        try await Lab.with { lab in
            var topology = try E.prepared(lab)
            _ = try Self.addRules(topology)
            // What a crash between a change's kernel transaction and its rows leaves: an element
            // no stored rule writes. And one of a stored rule is gone.
            let killed = topology.daemon.stop(signal: SIGKILL)
            #expect(killed)
            try Self.nft(
                topology, "add", "element", "inet", "aios_firewall", "input_allow_v4_src",
                "{ 10.60.0.2 . tcp . 8080 timeout 1h }")
            try Self.nft(
                topology, "delete", "element", "inet", "aios_firewall", "input_allow_v4_src",
                "{ 10.60.0.3 . tcp . 8080 }")
            let rangeBefore = try #require(try E.remaining(topology, set: "input_allow_v4", key: Self.rangeKey))
            try topology.daemon.start()
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"), "the orphan element is gone")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"), "the stored rule's element is back")
            let rangeAfter = try #require(try E.remaining(topology, set: "input_allow_v4", key: Self.rangeKey))
            #expect(rangeAfter <= rangeBefore, "\(rangeBefore) → \(rangeAfter)")
            #expect(try Self.entryStatus(topology)["drift"] as? Bool == false)

            // A clean stop: the next start does not read the sets, so a hand-made element stays.
            let stopped = topology.daemon.stop()
            #expect(stopped)
            try Self.nft(
                topology, "add", "element", "inet", "aios_firewall", "input_allow_v4_src",
                "{ 10.60.0.2 . tcp . 8080 }")
            try topology.daemon.start()
            let entries = try Self.entryStatus(topology)["entries"] as? [String: Any]
            #expect(entries?["unknown_count"] as? Int == 1, "\(String(describing: entries))")
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }
}
