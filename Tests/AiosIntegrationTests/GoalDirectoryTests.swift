import AiosCore
import AiosTesting
import Foundation
import Testing

/// Goal files in the daemon's watch directory against the real kernel: the topology of
/// `FirewallDefaultTests` (client 10.60.0.2 + .3 ─ server 10.60.0.1 with a listener on 8080).
@Suite("goal files in a watch directory, real nftables", .serialized)
struct GoalDirectoryTests {
    typealias F = FirewallDefaultTests

    /// `goals --json`.
    static func goals(_ topology: F.Topology) throws -> [String: Any] {
        let (_, value) = try topology.daemon.json(["goals"])
        return value as? [String: Any] ?? [:]
    }

    static func phase(_ topology: F.Topology, _ name: String) -> String? {
        let list = (try? goals(topology))?["goals"] as? [[String: Any]] ?? []
        return list.first { $0["name"] as? String == name }?["phase"] as? String
    }

    /// Writes `text` as `name` the way editors and `mv` do: a temporary file renamed in.
    static func drop(_ topology: F.Topology, _ name: String, _ text: String) throws {
        let directory = topology.daemon.goalsDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(directory)/.\(name).tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        try FileManager.default.moveItem(atPath: temporary, toPath: "\(directory)/\(name)")
    }

    static func rule(_ source: String) -> String {
        """
        kind: FirewallRule
        name: web
        spec: {action: allow, protocol: tcp, port: 8080, source: \(source)}

        """
    }

    @Test("drop, edit, rename-into and delete a goal file: the kernel follows; droppings and bad files change nothing")
    func lifecycle() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let key = #"["10.60.0.3","tcp",8080]"#
            try Self.drop(topology, "web.yaml", Self.rule("10.60.0.3"))
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "web") == "applied" })
            #expect(try FirewallEntryTests.member(topology, set: "input_allow_v4_src", key: key))
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))

            // Deleted with nft behind the daemon's back (no call, no resync due for 5 min): the
            // kernel's announcement brings it back.
            try Shell.check([
                "ip", "netns", "exec", topology.server, "nft", "delete", "element", "inet", "aios_firewall",
                "input_allow_v4_src", "{ 10.60.0.3 . tcp . 8080 }",
            ])
            #expect(try !FirewallEntryTests.member(topology, set: "input_allow_v4_src", key: key))
            #expect(
                Poll.until(seconds: 10) {
                    (try? FirewallEntryTests.member(topology, set: "input_allow_v4_src", key: key)) == true
                }, "\((try? topology.daemon.cli(["goal", "status", "web"]))?.stdout ?? "")")
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))

            // Edited in place (close after write): the old rule goes, the new one comes.
            try Self.rule("10.60.0.2").write(
                toFile: "\(topology.daemon.goalsDirectory)/web.yaml", atomically: false, encoding: .utf8)
            #expect(Poll.until(seconds: 10) { (try? F.connects(topology, port: 8080, from: "10.60.0.2")) == true })
            #expect(Poll.until(seconds: 10) { (try? F.connects(topology, port: 8080, from: "10.60.0.3")) == false })

            // Editor droppings are not goal files; a bad file is refused with file:line:column and
            // changes nothing.
            try Self.drop(topology, ".web.yaml.swp", "garbage")
            try Self.drop(topology, "web.yaml~", Self.rule("10.60.0.3"))
            try Self.drop(topology, "bad.yaml", "kind: FirewallRule\nname: bad\nspec: {action: allow}\ncolour: red\n")
            #expect(
                Poll.until(seconds: 10) {
                    ((try? Self.goals(topology))?["refused_files"] as? [String: String])?.values.first?.contains(
                        "bad.yaml:4:1") == true
                })
            #expect(Self.phase(topology, "bad") == nil)
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.2"))
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            let status = try topology.daemon.cli(["goal", "status", "web"])
            #expect(
                status.stdout.contains("applied") && status.stdout.contains("owns firewall.rule"), "\(status.stdout)")

            // Deleted: retracted.
            try FileManager.default.removeItem(atPath: "\(topology.daemon.goalsDirectory)/web.yaml")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "web") == nil })
            #expect(Poll.until(seconds: 10) { (try? F.connects(topology, port: 8080, from: "10.60.0.2")) == false })
            let rules = try topology.daemon.cli(["call", "firewall.list", "--json"])
            #expect(!rules.stdout.contains("10.60.0.2"), "\(rules.stdout)")

            // The audit trail names the goal.
            let events = try topology.daemon.cli(["events", "--limit", "200"])
            #expect(events.stdout.contains("[goal:web]"))
            #expect(events.stdout.contains("goal.retracted"))
            _ = topology
        }
    }

    @Test("goal plan shows the calls a file would make and changes nothing; an invalid file exits 65 with its place")
    func plan() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let file = "\(lab.directory)/plan.yaml"
            try Self.rule("10.60.0.3").write(toFile: file, atomically: true, encoding: .utf8)
            let planned = try topology.daemon.cli(["goal", "plan", file])
            #expect(planned.status == 0, "\(planned.stderr)")
            #expect(planned.stdout.contains("firewall.allow"), "\(planned.stdout)")
            #expect(planned.stdout.contains("10.60.0.3"), "\(planned.stdout)")
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.3"))
            try "kind: FirewallRule\nname: web\nspec:\n  action: maybe\n".write(
                toFile: file, atomically: true, encoding: .utf8)
            let invalid = try topology.daemon.cli(["goal", "plan", file])
            #expect(invalid.status == 65)
            #expect(invalid.stderr.contains("plan.yaml:4:"), "\(invalid.stderr)")
            #expect(invalid.stderr.contains("spec.action"), "\(invalid.stderr)")
            let schema = try topology.daemon.cli(["goal", "schema", "FirewallRule"])
            #expect(schema.stdout.contains("\"action\""))
        }
    }

    @Test("a goal's expiry is the kernel element's timeout; binary files and links out of the directory are refused")
    func expiryAndRefusals() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let key = #"["10.60.0.3","tcp",8080]"#
            try Self.drop(
                topology, "brief.yaml",
                "kind: FirewallRule\nname: brief\nexpires: 1h\nspec: {action: allow, port: 8080, source: 10.60.0.3}\n")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "brief") == "applied" })
            let remaining = try FirewallEntryTests.remaining(topology, set: "input_allow_v4_src", key: key)
            #expect(remaining.map { $0 > 3500 && $0 <= 3600 } == true, "\(String(describing: remaining))")

            // A binary file, and a link to a file outside the directory: refused, nothing applied.
            let outside = "\(lab.directory)/outside.yaml"
            try "kind: FirewallRule\nname: sneaky\nspec: {action: allow, port: 22}\n".write(
                toFile: outside, atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(
                atPath: "\(topology.daemon.goalsDirectory)/sneaky.yaml", withDestinationPath: outside)
            try Data([0x6b, 0x69, 0x6e, 0x64, 0x00, 0xff]).write(
                to: URL(fileURLWithPath: "\(topology.daemon.goalsDirectory)/binary.yaml"))
            #expect(
                Poll.until(seconds: 10) {
                    let refused = ((try? Self.goals(topology))?["refused_files"] as? [String: String]) ?? [:]
                    return refused.values.contains { $0.contains("symbolic link") }
                        && refused.values.contains { $0.contains("binary") }
                })
            #expect(Self.phase(topology, "sneaky") == nil)
            #expect(Self.phase(topology, "brief") == "applied")
        }
    }

    @Test(
        "a person's identical rule survives the goal's retraction; two conflicting goals are reported and nothing flaps; renamed out retracts"
    )
    func ownershipAndConflict() async throws {
        try await Lab.with { lab in
            let topology = try FirewallEntryTests.prepared(lab)
            let person = try topology.daemon.cli([
                "call", "firewall.allow", #"{"protocol": "tcp", "port": 8080, "source": "10.60.0.3"}"#,
            ])
            #expect(person.status == 0, "\(person.stderr)")
            try Self.drop(
                topology, "same.yaml", Self.rule("10.60.0.3").replacingOccurrences(of: "name: web", with: "name: same"))
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "same") == "applied" })
            try FileManager.default.removeItem(atPath: "\(topology.daemon.goalsDirectory)/same.yaml")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "same") == nil })
            #expect(try F.connects(topology, port: 8080, from: "10.60.0.3"))

            // allow vs deny of the same traffic: both conflict, no calls go back and forth.
            try Self.drop(
                topology, "open.yaml",
                "kind: FirewallRule\nname: open\nspec: {action: allow, port: 8080, source: 10.60.0.2}\n")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "open") == "applied" })
            try Self.drop(
                topology, "shut.yaml",
                "kind: FirewallRule\nname: shut\nspec: {action: deny, port: 8080, source: 10.60.0.2}\n")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "shut") == "conflict" })
            // Someone's change makes every firewall goal look again: `open` finds its rival.
            _ = try topology.daemon.cli(["call", "firewall.allow", #"{"port": 9999, "source": "10.60.0.9"}"#])
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "open") == "conflict" })
            let changes = { () -> Int in
                let (_, value) =
                    (try? topology.daemon.json(["events", "--origin", "goal", "--limit", "1000"])) ?? (nil, nil)
                return (value as? [[String: Any]] ?? []).filter {
                    ($0["tool"] as? String)?.hasPrefix("firewall.allow") == true
                        || ($0["tool"] as? String)?.hasPrefix("firewall.deny") == true
                }.count
            }
            let before = changes()
            for _ in 0..<5 {
                _ = try topology.daemon.cli(["call", "firewall.allow", #"{"port": 9998, "source": "10.60.0.9"}"#])
            }
            #expect(
                Poll.until(seconds: 10) { (try? Self.goals(topology))?["counts"] as? [String: Int] == ["conflict": 2] })
            #expect(changes() == before)
            let status = try topology.daemon.cli(["goal", "status", "shut"])
            #expect(status.stdout.contains("open"), "\(status.stdout)")

            // Renamed out of the directory: retracted.
            try FileManager.default.moveItem(
                atPath: "\(topology.daemon.goalsDirectory)/open.yaml", toPath: "\(lab.directory)/open.yaml")
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "open") == nil })
            #expect(Poll.until(seconds: 10) { Self.phase(topology, "shut") == "applied" })
            #expect(try !F.connects(topology, port: 8080, from: "10.60.0.2"))
        }
    }
}
