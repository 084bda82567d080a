import AiosCore
import AiosStore
import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Same topology as `FirewallDefaultTests` (client 10.60.0.2 + .3 ─ server 10.60.0.1 with the
/// daemon and listeners on 22 and 8080); the default ruleset is applied and confirmed first.
@Suite("firewall.allow / deny / remove with real traffic and expiry", .serialized)
struct FirewallEntryTests {
    typealias F = FirewallDefaultTests

    static func prepared(_ lab: Lab) throws -> F.Topology {
        let topology = try F.build(lab)
        try F.applyAndConfirm(topology.daemon, #"{"management_subnets": ["10.60.0.2/32"]}"#)
        #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
        return topology
    }

    /// The elements listed in `set`: each value's JSON text (compact, keys sorted, e.g.
    /// `{"concat":["10.60.0.3","tcp",8080]}`) and the seconds it has left when it expires.
    static func elements(_ topology: F.Topology, set: String) throws -> [(value: String, expires: Double?)] {
        let text = try Shell.check([
            "ip", "netns", "exec", topology.server, "nft", "-j", "list", "set", "inet", "aios_firewall", set,
        ])
        let document = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        var out: [(value: String, expires: Double?)] = []
        for item in document?["nftables"] as? [[String: Any]] ?? [] {
            for element in (item["set"] as? [String: Any])?["elem"] as? [Any] ?? [] {
                // Elements with a timeout are listed wrapped (`{"elem": {"val": …, "expires": …}}`).
                let wrapped = (element as? [String: Any])?["elem"] as? [String: Any]
                let value = try JSONSerialization.data(
                    withJSONObject: wrapped?["val"] ?? element, options: [.sortedKeys, .fragmentsAllowed])
                out.append((String(decoding: value, as: UTF8.self), (wrapped?["expires"] as? NSNumber)?.doubleValue))
            }
        }
        return out
    }

    /// Whether `set` holds an element whose value's text contains `key` (`["10.60.0.3","tcp",8080]`).
    static func member(_ topology: F.Topology, set: String, key: String) throws -> Bool {
        try elements(topology, set: set).contains { $0.value.contains(key) }
    }

    /// Seconds left of the element whose value's text contains `key` (nil: absent or permanent).
    static func remaining(_ topology: F.Topology, set: String, key: String) throws -> Double? {
        try elements(topology, set: set).first { $0.value.contains(key) }?.expires
    }

    static func addedID(_ result: Shell.Result) -> String? {
        let value = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (((value?["output"] as? [String: Any])?["added"] as? [[String: Any]])?.first)?["id"] as? String
    }

    @Test("an allowed port admits traffic; a 3 s entry stops admitting on time with the daemon stopped")
    func expiryWithoutDaemon() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let added = try topology.daemon.cli([
                "call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3", "expires": "3s"}"#,
            ])
            #expect(added.status == 0, "\(added.stderr)")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
            let stopped = topology.daemon.stop()
            #expect(stopped)
            #expect(Poll.until(seconds: 15) { (try? F.connects(topology, port: 8080, from: "10.60.0.3")) == false })
            // Back up, the daemon reports the expiry it missed.
            try topology.daemon.start()
            #expect(
                Poll.until(seconds: 10) {
                    ((try? topology.daemon.events()) ?? []).contains {
                        $0["kind"] as? String == "firewall.rule_expired"
                    }
                })
            let list = try topology.daemon.json(["call", "firewall.list"]).1 as? [String: Any]
            #expect(((list?["output"] as? [String: Any])?["rules"] as? [Any])?.isEmpty == true)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "after the table is deleted and the daemon restarts, a 1 h entry comes back with less than 1 h; an expired one does not"
    )
    func restoreAfterReboot() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let long = try topology.daemon.json([
                "call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3", "expires": "1h"}"#,
            ]).0
            #expect(Self.addedID(long) != nil)
            let short = try topology.daemon.json([
                "call", "firewall.allow", #"{"port": 22, "source": "10.60.0.3", "expires": "2s"}"#,
            ]).0
            #expect(Self.addedID(short) != nil)
            let (longKey, shortKey) = (#"["10.60.0.3","tcp",8080]"#, #"["10.60.0.3","tcp",22]"#)
            #expect(try Self.remaining(topology, set: "input_allow_v4_src", key: shortKey) != nil)
            let stopped = topology.daemon.stop()
            #expect(stopped)
            #expect(
                Poll.until(seconds: 10) {
                    (try? Self.remaining(topology, set: "input_allow_v4_src", key: shortKey)) == nil
                })
            try Shell.check(["ip", "netns", "exec", topology.server, "nft", "delete", "table", "inet", "aios_firewall"])
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.2"))

            try topology.daemon.start()
            // The socket serves before the start's restore ends; a firewall call waits for it.
            _ = try F.status(topology.daemon)
            let remaining = try #require(try Self.remaining(topology, set: "input_allow_v4_src", key: longKey))
            #expect(remaining < 3600 && remaining > 3500, "\(remaining)")
            #expect(try !Self.member(topology, set: "input_allow_v4_src", key: shortKey))
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
            #expect(try F.status(topology.daemon)["drift"] as? Bool == false)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "a big batch interrupted after its rows committed (marker left, elements not in the kernel) is re-added at boot, timers not extended"
    )
    func interruptedBatch() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            // 1,000 entries take the concurrent path (rows persisted beside the kernel transaction).
            var entries = (0..<999).map { #"{"port": 8080, "source": "10.61.\#($0 / 250).\#($0 % 250 + 1)"}"# }
            entries.append(#"{"port": 8080, "source": "10.60.0.3"}"#)
            let batch = "{\"entries\": [\(entries.joined(separator: ","))], \"expires\": \"1h\"}"
            let (result, added) = try topology.daemon.json(["call", "firewall.allow", batch])
            let output = (added as? [String: Any])?["output"] as? [String: Any]
            #expect(output?["added_count"] as? Int == 1000, "\(result.stderr)")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            let stopped = topology.daemon.stop()
            #expect(stopped)
            let store = try Store(dataDirectory: topology.daemon.dataDirectory)
            #expect(
                try await store.settings(prefix: "firewall.pending_batch.").isEmpty, "a finished batch leaves no marker"
            )
            let rules = try await store.activeFirewallRules()
            let client = try #require(rules.first { $0.summary.contains("from 10.60.0.3/32") })
            #expect(rules.contains { $0.summary.contains("from 10.61.0.1/32") })
            let (clientKey, otherKey) = (#"["10.60.0.3","tcp",8080]"#, #"["10.61.0.1","tcp",8080]"#)
            let before = try #require(try Self.remaining(topology, set: "input_allow_v4_src", key: otherKey))
            // What a crash between the commit and the kernel transaction leaves: the rows and the
            // marker, without (here: one of) the elements.
            try Shell.check([
                "ip", "netns", "exec", topology.server, "nft", "delete", "element", "inet", "aios_firewall",
                "input_allow_v4_src", "{ 10.60.0.3 . tcp . 8080 }",
            ])
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            try await store.setSetting(
                "firewall.pending_batch.\(client.id)", ["created_ms": .number(Double(client.createdMs))])

            try topology.daemon.start()
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            let back = try #require(try Self.remaining(topology, set: "input_allow_v4_src", key: clientKey))
            #expect(back < 3600, "\(back)")
            let after = try #require(try Self.remaining(topology, set: "input_allow_v4_src", key: otherKey))
            #expect(after <= before, "before \(before) after \(after)")
            #expect(try await store.settings(prefix: "firewall.pending_batch.").isEmpty)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "a batch into a missing table fails whole, saying how to repair it: no rule stays active, no marker is left",
        arguments: [10, 1000])
    func missingTable(count: Int) async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            try Shell.check(["ip", "netns", "exec", topology.server, "nft", "delete", "table", "inet", "aios_firewall"])
            // 1,000 entries take the concurrent path (records made and stored beside the kernel).
            let entries = (0..<count).map { #"{"port": 8080, "source": "10.62.\#($0 / 250).\#($0 % 250 + 1)"}"# }
            let batch = "{\"entries\": [\(entries.joined(separator: ","))], \"expires\": \"1h\"}"
            let result = try topology.daemon.cli(["call", "firewall.allow", batch])
            #expect(result.status == 66, "\(result.stderr)")
            #expect(result.stderr.contains("run firewall.apply_default"), "\(result.stderr)")
            let stopped = topology.daemon.stop()
            #expect(stopped)
            let store = try Store(dataDirectory: topology.daemon.dataDirectory)
            #expect(try await store.activeFirewallRules().isEmpty, "the failed batch left active rules")
            #expect(try await store.settings(prefix: "firewall.pending_batch.").isEmpty)
            #expect(topology.foreignUntouched, "another table changed")
        }
    }

    @Test("a daemon restart with the table present neither resets nor extends a timer")
    func restartKeepsTimers() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let added = try topology.daemon.json(["call", "firewall.allow", #"{"port": 8080, "expires": "1h"}"#]).0
            #expect(Self.addedID(added) != nil)
            let key = #""tcp",8080]"#
            let before = try #require(try Self.remaining(topology, set: "input_allow_v4", key: key))
            let stopped = topology.daemon.stop()
            #expect(stopped)
            try topology.daemon.start()
            let after = try #require(try Self.remaining(topology, set: "input_allow_v4", key: key))
            #expect(after <= before, "before \(before) after \(after)")
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test("deny beats allow; remove takes a rule out; the same call twice changes nothing")
    func denyAllowRemove() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let allow = try daemon.json(["call", "firewall.allow", #"{"port": 8080, "comment": "web"}"#]).0
            let allowID = try #require(Self.addedID(allow))
            #expect(
                try daemon.cli(["call", "firewall.allow", #"{"port": 8080, "comment": "web"}"#]).stdout.contains(
                    "unchanged"))
            let deny = try daemon.json(["call", "firewall.deny", #"{"port": 8080, "source": "10.60.0.3"}"#]).0
            let denyID = try #require(Self.addedID(deny))
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.2"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try daemon.cli(["call", "firewall.remove", "{\"id\": \"\(denyID)\"}"]).status == 0)
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try daemon.cli(["call", "firewall.remove", "{\"ids\": [\"\(allowID)\"]}"]).status == 0)
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
            #expect(try daemon.cli(["call", "firewall.remove", #"{"id": "nope"}"#]).status == 66)
            // A deny that would shadow management access is refused for every origin.
            let shadow = try daemon.cli(["call", "firewall.deny", #"{"port": 22, "source": "10.60.0.0/24"}"#])
            #expect(shadow.status == 77)
            #expect(shadow.stderr.contains("protected"))
            #expect(try F.connects(topology, port: 22, from: "10.60.0.2"))
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "a batch removed in one call: its elements leave the kernel, the answer counts them, a repeated id counts once, and the same batch can come back"
    )
    func removeBatch() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let hosts = (0..<240).map { "{\"port\": 8080, \"source\": \"10.70.\($0 / 200).\($0 % 200 + 1)\"}" }
            let ranges = (0..<10).map { "{\"port\": \"\(9000 + 10 * $0)-\(9005 + 10 * $0)\"}" }
            let batch = "{\"entries\": [\((hosts + ranges).joined(separator: ","))], \"expires\": \"1h\"}"
            let hostSet = "input_allow_v4_src"
            func hostsInKernel() throws -> Int {
                try Self.elements(topology, set: hostSet).count { $0.value.contains("10.70.") }
            }
            for round in 0..<2 {
                let added = try daemon.json(["call", "firewall.allow", batch])
                let addedCount = ((added.1 as? [String: Any])?["output"] as? [String: Any])?["added_count"] as? Int
                #expect(addedCount == 250, "round \(round): \(added.0.stdout.prefix(300)) \(added.0.stderr)")
                #expect(try hostsInKernel() == 240)
                #expect(try Self.member(topology, set: "input_allow_v4", key: #"{"range":[9090,9095]}"#))
                let list = try daemon.json(["call", "firewall.list", #"{"limit": 1000}"#]).1 as? [String: Any]
                let rules = ((list?["output"] as? [String: Any])?["rules"] as? [[String: Any]]) ?? []
                let ids = rules.compactMap { $0["id"] as? String }
                #expect(ids.count == 250)
                let repeated = ids + [ids[7]]
                let removal = "{\"ids\": [\(repeated.map { "\"\($0)\"" }.joined(separator: ","))]}"
                let removed = try daemon.json(["call", "firewall.remove", removal])
                let output = (removed.1 as? [String: Any])?["output"] as? [String: Any]
                #expect(output?["removed_count"] as? Int == 250, "\(removed.0.stdout.prefix(300)) \(removed.0.stderr)")
                #expect((output?["removed"] as? [String])?.count == 100, "the answer names the first 100")
                #expect(try hostsInKernel() == 0)
                #expect(try !Self.member(topology, set: "input_allow_v4", key: #"{"range":[9090,9095]}"#))
                let after = try daemon.json(["call", "firewall.list"]).1 as? [String: Any]
                #expect(((after?["output"] as? [String: Any])?["rules"] as? [Any])?.isEmpty == true)
            }
            #expect(try F.status(topology.daemon)["drift"] as? Bool == false)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test("host entries (hash sets) and boxes (interval sets) meet in one chain: a range deny beats a host allow")
    func shapesTogether() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let host = try daemon.json(["call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3"}"#]).0
            let hostID = try #require(Self.addedID(host))
            let hostKey = #"["10.60.0.3","tcp",8080]"#
            #expect(try Self.member(topology, set: "input_allow_v4_src", key: hostKey))
            #expect(try Self.remaining(topology, set: "input_allow_v4_src", key: hostKey) == nil, "permanent")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
            let range = try daemon.json(["call", "firewall.deny", #"{"port": "8000-8100", "source": "10.60.0.3"}"#])
                .0
            let rangeID = try #require(Self.addedID(range))
            #expect(try Self.member(topology, set: "input_deny_v4", key: #"{"range":[8000,8100]}"#))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try daemon.cli(["call", "firewall.remove", "{\"id\": \"\(rangeID)\"}"]).status == 0)
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try daemon.cli(["call", "firewall.remove", "{\"id\": \"\(hostID)\"}"]).status == 0)
            #expect(try !Self.member(topology, set: "input_allow_v4_src", key: hostKey))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try F.status(topology.daemon)["drift"] as? Bool == false)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test("a range overlapping a rule in force, or another in the batch, is refused by name; once removed it fits")
    func overlaps() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let first = try daemon.json(["call", "firewall.allow", #"{"port": "8000-9000", "comment": "range"}"#]).0
            let firstID = try #require(Self.addedID(first))
            let before = try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"])
            let crossing = try daemon.cli(["call", "firewall.allow", #"{"port": "8500-9500"}"#])
            #expect(crossing.status == 65, "\(crossing.stderr)")
            #expect(crossing.stderr.contains("overlaps rule \(firstID)"), "\(crossing.stderr)")
            let inBatch = try daemon.cli([
                "call", "firewall.allow", #"{"entries": [{"port": "100-200"}, {"port": "150-250"}]}"#,
            ])
            #expect(inBatch.status == 65, "\(inBatch.stderr)")
            #expect(
                inBatch.stderr.contains("input.entries[0]: overlaps input.entries[1]")
                    || inBatch.stderr.contains("input.entries[1]: overlaps input.entries[0]"), "\(inBatch.stderr)")
            #expect(
                try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"]) == before)
            // The rules in force are cached per store generation: a removal is seen at once.
            #expect(try daemon.cli(["call", "firewall.remove", "{\"id\": \"\(firstID)\"}"]).status == 0)
            let fits = try daemon.cli(["call", "firewall.allow", #"{"port": "8500-9500"}"#])
            #expect(fits.status == 0, "\(fits.stderr)")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3") == false)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "a rule writing a host+port element another rule holds is refused (they would share its timer); once removed it fits"
    )
    func sharedElement() async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let daemon = topology.daemon
            let first = try daemon.json([
                "call", "firewall.allow", #"{"port": [8080, 22], "source": "10.60.0.3", "expires": "1h"}"#,
            ]).0
            let firstID = try #require(Self.addedID(first))
            let before = try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"])
            let again = try daemon.cli([
                "call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3", "expires": "2h"}"#,
            ])
            #expect(again.status == 65, "\(again.stderr)")
            #expect(again.stderr.contains("same set element as rule \(firstID)"), "\(again.stderr)")
            let inBatch = try daemon.cli([
                "call", "firewall.allow",
                #"{"entries": [{"port": 9000, "source": "10.60.0.9"}, {"port": [9001, 9000], "source": "10.60.0.9"}]}"#,
            ])
            #expect(inBatch.status == 65, "\(inBatch.stderr)")
            #expect(inBatch.stderr.contains("input.entries[1]") && inBatch.stderr.contains("input.entries[0]"))
            #expect(
                try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"]) == before)
            #expect(try daemon.cli(["call", "firewall.remove", "{\"id\": \"\(firstID)\"}"]).status == 0)
            let fits = try daemon.cli([
                "call", "firewall.allow", #"{"port": 8080, "source": "10.60.0.3", "expires": "2h"}"#,
            ])
            #expect(fits.status == 0, "\(fits.stderr)")
            let left = try #require(
                try Self.remaining(topology, set: "input_allow_v4_src", key: #"["10.60.0.3","tcp",8080]"#))
            #expect(left > 3600, "the element carries the new rule's 2 h, not the removed rule's 1 h: \(left)")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }

    @Test(
        "bad entries are refused with the field named and the ruleset left byte-identical",
        arguments: [
            (#"{"port": 70000}"#, "input.port"), (#"{"port": 80, "source": "10.0.0.0/33"}"#, "input.source"),
            (#"{"chain": "sideways", "port": 80}"#, "input.chain"),
            (#"{"port": 80, "expires": "2020-01-01T00:00:00Z"}"#, "input.expires"),
            (#"{"port": 80, "expires": "30d"}"#, "input.expires"),
            (#"{"entries": [{"port": 80}, {"port": "90-80"}]}"#, "input.entries[1].port"),
            (#"{"protocol": "icmp", "port": 80}"#, "input.port"),
            (#"{"port": 80, "source": "10.0.0.1", "destination": "fd00::1"}"#, "input.destination"),
            (#"{"port": 80, "interface": "eth0/1"}"#, "input.interface"),
        ])
    func badEntries(input: String, field: String) async throws {
        try await Lab.with { lab in
            var topology = try Self.prepared(lab)
            let before = try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"])
            let result = try topology.daemon.cli(["call", "firewall.allow", input])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
            #expect(
                try Shell.check(["ip", "netns", "exec", topology.server, "nft", "-s", "list", "ruleset"]) == before)
            #expect(topology.foreignUntouched, "another table changed")
            _ = topology.daemon.stop()
        }
    }
}
