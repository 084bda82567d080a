import AiosLinux
import AiosStore
import AiosTesting
import Foundation
import Testing

/// Inputs and stored state that once took the daemon down or left a rule that could not be
/// removed. Same topology as `FirewallDefaultTests` (client 10.60.0.2 + .3 ─ server 10.60.0.1
/// with the daemon); the default ruleset is applied and confirmed first.
@Suite("firewall hardening: no input or stored rule takes the daemon down; every rule can be removed", .serialized)
struct FirewallHardeningTests {
    typealias F = FirewallDefaultTests

    /// Calls `firewall.allow` with `input` and returns the result and the first added id.
    static func allow(_ daemon: DaemonHarness, _ input: String) throws -> (Shell.Result, String?) {
        let result = try daemon.cli(["call", "firewall.allow", input, "--json"])
        return (result, FirewallEntryTests.addedID(result))
    }

    @Test(
        "an interface that would encode empty or put * inside a name is refused, naming the field",
        arguments: [#""*""#, #""eth*0""#, #""**""#])
    func wildcardRefused(interface: String) async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let (result, id) = try Self.allow(topology.daemon, #"{"port": 80, "interface": \#(interface)}"#)
            #expect(result.status == 65 && id == nil, "\(result.stdout)")
            #expect(result.stdout.contains("input.interface"), "\(result.stdout)")
            // Still serving, and the table still lists (through libnftables, as nft does).
            #expect(try topology.daemon.cli(["call", "firewall.apply_default", "{}", "--dry-run"]).status == 0)
            _ = try Shell.check([
                "ip", "netns", "exec", topology.server, "nft", "list", "table", "inet", "aios_firewall",
            ])
        }
    }

    @Test("a stored * rule and its unlistable kernel element are quarantined at start; the daemon serves")
    func storedWildcardQuarantined() async throws {
        try await Lab.with { lab in
            var topology = try FirewallEntryTests.prepared(lab)
            let (kept, keptID) = try Self.allow(topology.daemon, #"{"port": 8080, "source": "10.60.0.3"}"#)
            #expect(kept.status == 0, "\(kept.stderr)")
            let stopped = topology.daemon.stop(signal: SIGKILL)
            #expect(stopped)
            // What an older version wrote for {"port": 80, "interface": "*"}: the row, and the
            // element with an empty name padded with 0xff.
            let store = try Store(dataDirectory: topology.daemon.dataDirectory)
            let spec =
                #"{"chain":"input","destination":"any","interface":"*","ports":[{"high":80,"low":80}],"protocolName":"tcp","source":"any","verdict":"allow"}"#
            try await store.insertFirewallRules([
                FirewallRuleRecord(
                    id: "00000000000000aa", verdict: "allow", specText: spec,
                    summary: "allow input tcp 80 from any to any on *", origin: "user", createdMs: 1,
                    expiresMs: nil, expiresText: nil)
            ])
            var low = NftablesKey()
            var high = NftablesKey()
            low.append(interface: "")
            high.append(interface: "", padding: 0xff)
            low.append(address: 0, width: 4)
            high.append(address: UInt128(UInt32.max), width: 4)
            low.append(address: 0, width: 4)
            high.append(address: UInt128(UInt32.max), width: 4)
            low.append(byte: 6)
            high.append(byte: 6)
            low.append(port: 80)
            high.append(port: 80)
            var poison = NftablesElementList()
            poison.append(key: low, keyEnd: high)
            var transaction = NftablesElementTransaction(family: .inet, table: "aios_firewall")
            transaction.add(poison, to: "input_allow_v4_if")
            try NftablesConnection(namespace: .named(topology.server)).commit(transaction)
            let listing = try Shell.run([
                "ip", "netns", "exec", topology.server, "nft", "list", "table", "inet", "aios_firewall",
            ])
            #expect(listing.status != 0, "nft itself cannot list such an element")

            try topology.daemon.start()
            #expect(try topology.daemon.cli(["call", "firewall.apply_default", "{}", "--dry-run"]).status == 0)
            let after = try Shell.run([
                "ip", "netns", "exec", topology.server, "nft", "list", "table", "inet", "aios_firewall",
            ])
            #expect(after.status == 0, "\(after.stderr)")
            let events = try topology.daemon.events()
            let quarantined = events.filter { $0["kind"] as? String == "firewall.rule_quarantined" }
            #expect(quarantined.count == 1)
            #expect((quarantined.first?["detail"] as? String)?.contains("00000000000000aa") == true)
            let list = try topology.daemon.json(["call", "firewall.list"]).1 as? [String: Any]
            let ids = ((list?["output"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []).compactMap {
                $0["id"] as? String
            }
            #expect(ids == [keptID].compactMap { $0 }, "the quarantined rule is out of force, the other stays")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
        }
    }

    @Test("a port given twice makes one element, and the rule can be removed")
    func repeatedPortRemovable() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let (added, id) = try Self.allow(topology.daemon, #"{"port": [8181, 8181], "source": "10.60.0.3"}"#)
            #expect(added.status == 0, "\(added.stderr)")
            let value = try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any]
            #expect((value?["output"] as? [String: Any])?["elements"] as? Int == 1)
            let removed = try topology.daemon.cli(["call", "firewall.remove", #"{"id": "\#(id ?? "")"}"#])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try !FirewallEntryTests.member(topology, set: "input_allow_v4_src", key: "8181"))
        }
    }

    @Test("a rule sharing another's set element is refused, so removing either never takes the other's")
    func sharedElementRefused() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let (first, firstID) = try Self.allow(topology.daemon, #"{"port": 8080}"#)
            #expect(first.status == 0 && firstID != nil, "\(first.stderr)")
            // [80, 80] folds to 80 beside it; [8080, 443] would share 8080's element.
            let (shared, sharedID) = try Self.allow(topology.daemon, #"{"port": [8080, 443]}"#)
            #expect(shared.status == 65 && sharedID == nil, "\(shared.stdout)")
            #expect(shared.stdout.contains("rule \(firstID ?? "?")"), "\(shared.stdout)")
            let (same, _) = try Self.allow(topology.daemon, #"{"port": [8080, 8080]}"#)
            let value = try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any]
            #expect(((value?["output"] as? [String: Any])?["unchanged"] as? [String]) == [firstID ?? "?"])
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
        }
    }

    /// Waits for the guard of `tool` to roll back (its audit row).
    static func rolledBack(_ daemon: DaemonHarness, seconds: Double) -> Bool {
        Poll.until(seconds: seconds) {
            ((try? daemon.events()) ?? []).contains {
                $0["kind"] as? String == "guard.rolled_back" && $0["tool"] as? String == "firewall.apply_default"
            }
        }
    }

    @Test("an allow that expired inside a guard's window does not come back with its rollback")
    func rollbackKeepsExpiry() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let (added, _) = try Self.allow(topology.daemon, #"{"port": 8080, "source": "10.60.0.3", "expires": "2s"}"#)
            #expect(added.status == 0, "\(added.stderr)")
            let switched = try topology.daemon.cli([
                "call", "firewall.apply_default", #"{"management_subnets": ["10.60.0.3/32"]}"#, "--yes", "--window",
                "4s",
            ])
            #expect(switched.status == 0, "\(switched.stderr)")
            #expect(Self.rolledBack(topology.daemon, seconds: 20))
            #expect(try !FirewallEntryTests.member(topology, set: "input_allow_v4_src", key: "8080"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
        }
    }

    @Test("after kill -9 and an outage, a rollback gives elements what the store says is left, never more")
    func rollbackAfterOutage() async throws {
        try await Lab.with { lab in
            var topology = try FirewallEntryTests.prepared(lab)
            let (added, id) = try Self.allow(
                topology.daemon, #"{"port": 8080, "source": "10.60.0.3", "expires": "60s"}"#)
            #expect(added.status == 0, "\(added.stderr)")
            let switched = try topology.daemon.cli([
                "call", "firewall.apply_default", #"{"management_subnets": ["10.60.0.3/32"]}"#, "--yes", "--window",
                "5m",
            ])
            #expect(switched.status == 0, "\(switched.stderr)")
            let list = try topology.daemon.json(["call", "firewall.list"]).1 as? [String: Any]
            let rule = ((list?["output"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []).first {
                $0["id"] as? String == id
            }
            let expiresMs = (rule?["expires_ms"] as? NSNumber)?.doubleValue ?? 0
            #expect(expiresMs > 0)
            let stopped = topology.daemon.stop(signal: SIGKILL)
            #expect(stopped)
            // The outage: the kernel's timer runs on while no daemon is there.
            let outageEnd = Date().timeIntervalSince1970 + 4
            #expect(Poll.until(seconds: 10) { Date().timeIntervalSince1970 >= outageEnd })
            try topology.daemon.start()
            #expect(Self.rolledBack(topology.daemon, seconds: 20))
            let remaining = try FirewallEntryTests.remaining(topology, set: "input_allow_v4_src", key: "8080")
            let left = (expiresMs - Date().timeIntervalSince1970 * 1000) / 1000
            #expect(remaining != nil, "still in force: it has not expired")
            #expect((remaining ?? .infinity) <= left + 0.5, "kernel \(remaining ?? -1) s, store \(left) s")
        }
    }

    @Test(
        "a restore whose snapshot holds another table's objects, or kinds it does not make, is refused whole",
        arguments: [
            (
                #"{"chain": {"family": "inet", "table": "theirs", "name": "x", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}"#,
                "input.snapshot[1].chain.table"
            ),
            (
                #"{"rule": {"family": "ip", "table": "aios_firewall", "chain": "input", "expr": [{"accept": null}]}}"#,
                "input.snapshot[1].rule.family"
            ),
            (
                #"{"flowtable": {"family": "inet", "table": "aios_firewall", "name": "f"}}"#,
                "input.snapshot[1].flowtable"
            ),
        ])
    func restoreStaysInItsTable(object: String, field: String) async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let before = try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"])
            let input = #"{"snapshot": [{"table": {"family": "inet", "name": "aios_firewall"}}, \#(object)]}"#
            let result = try topology.daemon.cli(["call", "firewall.restore", input, "--yes"])
            #expect(result.status == 65, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
            #expect(
                try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"]) == before)
            #expect(topology.foreignUntouched)
        }
    }

    /// The shipped lockdown policy.
    static let lockdown = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Policies/lockdown.yaml").standardized.path

    @Test("a reboot under the lockdown policy comes back with the firewall it had, audited as a restore")
    func lockdownRebootFailsClosed() async throws {
        try await Lab.with { lab in
            var topology = try FirewallEntryTests.prepared(lab)
            let (added, _) = try Self.allow(topology.daemon, #"{"port": 8080, "source": "10.60.0.3"}"#)
            #expect(added.status == 0, "\(added.stderr)")
            let stopped = topology.daemon.stop()
            #expect(stopped)
            // The reboot: the kernel forgets aios-net's table.
            try Shell.check(["ip", "netns", "exec", topology.server, "nft", "delete", "table", "inet", "aios_firewall"])
            topology.daemon.policy = Self.lockdown
            try topology.daemon.start()
            #expect(try F.status(topology.daemon)["present"] as? Bool == true)
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"), "policy drop is back")
            let restore = try topology.daemon.events(["--origin", "restore"]).first {
                $0["tool"] as? String == "firewall.reconcile" && $0["result"] as? String == "applied"
            }
            #expect(restore != nil)
            // Lockdown still refuses anything new.
            #expect(try topology.daemon.cli(["call", "firewall.allow", #"{"port": 9000}"#]).status == 77)
        }
    }
}
