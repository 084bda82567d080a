import AiosCore
import AiosLinux
import AiosStore
import Testing

@testable import AiosFirewallTools

@Suite("which set an entry's elements go to")
struct EntryShapeTests {
    static func elements(_ json: JSONValue, verdict: String = "allow") throws -> [Element] {
        try EntryRule.from(try json.decode(as: RuleInput.self), verdict: verdict, field: "input").elements
    }

    @Test("one host and one tcp/udp port go to the exact (hash) sets, keyed by the host")
    func exact() throws {
        let source = try #require(try Self.elements(["port": 8080, "source": "10.1.2.3"]).first)
        #expect(source.shape == .source && source.set == "input_allow_v4_src")
        #expect(ElementKey(source).value == ["concat": ["10.1.2.3", 6, 8080]])
        #expect(source.kernelKeys.end == nil, "an exact element is no range")
        let destination = try Self.elements(
            ["chain": "output", "protocol": "udp", "port": [53, 853], "destination": "fd00::53"], verdict: "deny")
        #expect(destination.map(\.set) == ["output_deny_v6_dst", "output_deny_v6_dst"])
        #expect(
            destination.map { ElementKey($0).value } == [
                ["concat": ["fd00::53", 17, 53]], ["concat": ["fd00::53", 17, 853]],
            ])
    }

    @Test(
        "anything else is a box in an interval set",
        arguments: [
            (["port": "8000-8080", "source": "10.1.2.3"], "input_allow_v4"),
            (["port": 80, "source": "10.1.2.0/24"], "input_allow_v4"),
            (["port": 80, "source": "10.1.2.3", "destination": "10.9.9.9"], "input_allow_v4"),
            (["source": "10.1.2.3"], "input_allow_v4"),
            (["protocol": "icmp", "source": "10.1.2.3"], "input_allow_v4"),
            (["port": 80, "source": "10.1.2.3", "interface": "eth0"], "input_allow_v4_if"),
        ] as [(JSONValue, String)])
    func box(input: JSONValue, set: String) throws {
        let elements = try Self.elements(input)
        #expect(elements.map(\.set) == [set])
        #expect(elements.allSatisfy { !$0.shape.isExact })
    }

    @Test(
        "the stored spec text is the rule's Codable JSON, and parses back to the rule",
        arguments: [
            ["port": 8080, "source": "10.1.2.3"] as JSONValue,
            ["chain": "output", "protocol": "udp", "port": [53, "60000-61000"], "destination": "fd00::/8"],
            ["protocol": "any", "interface": "we\"ird\\name"], ["protocol": "icmp", "source": "10.0.0.0/8"],
            ["protocol": "tcp", "port": 22, "interface": "eth0.100"],
        ])
    func specText(input: JSONValue) throws {
        let rule = try EntryRule.from(try input.decode(as: RuleInput.self), verdict: "deny", field: "input")
        #expect(rule.specText == (try JSONValue(encoding: rule)).jsonText)
        #expect(try JSONValue(parsing: rule.specText).decode(as: EntryRule.self) == rule)
    }

    @Test(
        "an interface name the kernel would refuse is refused, naming the field",
        arguments: ["", "a-very-long-interface-name", "eth0/1", "eth 0", "..", "br:0"])
    func badInterface(name: String) throws {
        let input = try (["port": 80, "interface": .string(name)] as JSONValue).decode(as: RuleInput.self)
        let error = #expect(throws: AiosError.self) {
            try EntryRule.from(input, verdict: "allow", field: "input.entries[3]")
        }
        #expect(error?.location?.field == "input.entries[3].interface")
    }

    @Test("exact elements never overlap; boxes still do")
    func overlaps() throws {
        let exact = try Self.elements(["port": 8080, "source": "10.1.2.3"])[0]
        let box = try Self.elements(["port": "8000-9000"])[0]
        let index = OverlapIndex([OverlapIndex.Entry(element: exact, owner: "a"), .init(element: box, owner: "b")])
        #expect(index.conflict(for: exact, owner: "c") == nil)
        let crossing = try Self.elements(["port": "8500-9500"])[0]
        #expect(index.conflict(for: crossing, owner: "c") == "b")
        #expect(ActiveRules.indexed([exact, box], owner: "a").map(\.element) == [box])
    }

    @Test("every shape has its set and one rule per chain × verdict × family; deny rules come first")
    func ruleset() {
        #expect(EntrySets.all.count == 3 * 2 * 2 * EntryShape.allCases.count)
        for (position, entry) in EntrySets.all.enumerated() {
            #expect(
                EntrySets.index(chain: entry.chain, verdict: entry.verdict, family: entry.family, shape: entry.shape)
                    == position, "\(entry.name) is found where it is")
        }
        #expect(EntryShape.allCases.map(\.position) == Array(EntryShape.allCases.indices))
        let input = DefaultRuleset.ruleIDs["input"] ?? []
        let lastDeny = input.lastIndex { $0.hasPrefix("in-deny-") } ?? 0
        let firstAllow = input.firstIndex { $0.hasPrefix("in-allow-") } ?? 0
        #expect(lastDeny < firstAllow)
        #expect(input.contains("in-allow-v4-src") && input.contains("in-deny-v6-dst"))
        let set = EntrySets.set(table: "t", name: "input_allow_v4_src", family: "v4", shape: .source)
        #expect(set["type"] == ["ipv4_addr", "inet_proto", "inet_service"] && set["flags"] == ["timeout"])
    }
}

@Suite("planning a batch across the cores")
struct BatchPlanTests {
    /// Entries as a batch's input holds them (read one by one as they are planned).
    static func entries(_ count: Int, bad: [Int] = []) -> [JSONValue] {
        (0..<count).map { index in
            let port: JSONValue = bad.contains(index) ? 70000 : .number(Double(1 + index % 60000))
            return ["port": port, "source": .string("10.\(index >> 16).\((index >> 8) & 255).\(index & 255)")]
        }
    }

    /// `entry` with `name` set to `value`.
    static func with(_ entry: JSONValue, _ name: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = entry else { return entry }
        members[name] = value
        return .object(members)
    }

    static func rule(_ entry: JSONValue) throws -> EntryRule {
        try EntryRule.from(try entry.decode(as: RuleInput.self), verdict: "allow", field: "x")
    }

    static func prepare(_ raw: [JSONValue], current: ActiveRules.Snapshot = .init()) async throws
        -> EntryPlanner.Batch
    {
        try await EntryPlanner.prepare(
            .entries(raw),
            .init(
                defaults: RuleInput(), verdict: "allow", now: 0, limit: nil, origin: "user", single: false,
                current: current))
    }

    /// The keys a batch sends to the kernel, in order (every entry here is in one set).
    static func sent(_ batch: EntryPlanner.Batch) -> [ElementKey] {
        batch.lists.transaction(table: "t").decoded().flatMap { message in
            let position = EntrySets.all.firstIndex { $0.name == message.set }!
            return message.elements.compactMap { ElementKey(kernel: $0, set: position) }
        }
    }

    @Test("a big batch comes back whole and in input order, its elements sent in the same order")
    func order() async throws {
        let raw = Self.entries(3 * EntryPlanner.parallelChunk + 7)
        let batch = try await Self.prepare(raw)
        #expect(batch.count == raw.count && Array(batch.indices) == Array(raw.indices))
        for index in [0, 1, EntryPlanner.parallelChunk, raw.count - 1] {
            let one = try Self.rule(raw[index])
            #expect(batch.elements[index] == one.elements && batch.rules[index] == one)
        }
        #expect(Self.sent(batch) == batch.elements.flatMap { $0.map(ElementKey.init) })
        #expect(batch.lists.count == raw.count)
    }

    @Test("records are made after planning: consecutive ids across chunks, each rule's spec, summary and comment")
    func recordsAfterPlanning() async throws {
        var raw = Self.entries(3 * EntryPlanner.parallelChunk)
        raw[7] = Self.with(raw[7], "comment", "seven")
        let batch = try await Self.prepare(raw)
        let head = (0..<3).map { batch.record($0) }
        let records = batch.records(head: head)
        #expect(records.count == raw.count && Array(records.prefix(3)) == head)
        let ids = records.compactMap { UInt64($0.id, radix: 16) }
        #expect(ids.count == records.count && zip(ids, ids.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        for index in [0, 7, EntryPlanner.parallelChunk + 1, raw.count - 1] {
            let rule = try Self.rule(raw[index])
            let stored = try EntryRule(specText: records[index].specText)
            #expect(records[index].specText == rule.specText && stored == rule)
            #expect(records[index].summary == rule.summary + (index == 7 ? " (seven)" : ""))
            #expect(records[index].state == "active" && records[index].origin == "user")
        }
    }

    @Test("the rows the store writes from a batch's bytes read back as the batch's records")
    func rowsAsBytes() async throws {
        var raw = Self.entries(2 * EntryPlanner.parallelChunk + 3)
        raw[5] = Self.with(raw[5], "comment", "five \"quoted\"")
        raw[6] = Self.with(raw[6], "expires", "2h")
        let batch = try await EntryPlanner.prepare(
            .entries(raw),
            .init(
                defaults: RuleInput(), verdict: "deny", now: 1_000, limit: nil, origin: "goal", single: false,
                current: .init()))
        let store = try Store.temporary()
        try await store.insertFirewallRules(batch, marker: ("test.marker.1", ["n": 1]))
        #expect(try await store.settings(prefix: "test.marker.").map(\.key) == ["test.marker.1"])
        // The marker commits with the rows or not at all: the same ids again fail whole.
        await #expect(throws: (any Error).self) {
            try await store.insertFirewallRules(batch, marker: ("test.marker.2", ["n": 2]))
        }
        #expect(try await store.settings(prefix: "test.marker.").map(\.key) == ["test.marker.1"])
        let stored = try await store.activeFirewallRules()
        #expect(stored.count == raw.count)
        #expect(Set(stored) == Set(batch.records(head: [])))
        let five = try #require(stored.first { $0.id == batch.id(5) })
        #expect(five.summary.hasSuffix("(five \"quoted\")") && five.verdict == "deny" && five.origin == "goal")
        let six = try #require(stored.first { $0.id == batch.id(6) })
        #expect(six.expiresMs == 1_000 + 7_200_000 && six.expiresText == "2h")
        #expect(try await store.firewallRuleCounts(unexpiredAt: 0)["deny"] == raw.count)
    }

    @Test("the same rule in two chunks is planned once, as in one pass")
    func duplicateAcrossChunks() async throws {
        var raw = Self.entries(3 * EntryPlanner.parallelChunk)
        raw.append(raw[1])
        let batch = try await Self.prepare(raw)
        #expect(batch.count == raw.count - 1 && batch.indices.last == raw.count - 2)
        #expect(Self.sent(batch).count == raw.count - 1)
    }

    @Test(
        "a rule of exact elements is known by them: the same rule again is planned once, a rule in force is unchanged")
    func exactRulesKnownByElements() async throws {
        // Host+port rules (exact elements) and a box rule, each twice, in one pass.
        let host: JSONValue = ["port": [80, 443], "source": "10.9.9.9"]
        let box: JSONValue = ["port": "1000-2000", "source": "10.8.0.0/16"]
        let batch = try await Self.prepare([host, box, host, ["source": "10.9.9.9/32", "port": [80, 443]], box])
        #expect(batch.count == 2 && Array(batch.indices) == [0, 1])
        // The same elements from a rule that is not the same (its ports in another order) are refused.
        let reordered = await #expect(throws: AiosError.self) {
            try await Self.prepare([host, ["port": [443, 80], "source": "10.9.9.9"]])
        }
        #expect(reordered?.location?.field == "input.entries[1]")
        // Against rules in force: the same rule is unchanged; another rule holding its element is refused.
        let rule = try Self.rule(host)
        var current = ActiveRules.Snapshot()
        let record = FirewallRuleRecord(
            id: "00000000000000aa", verdict: "allow", specText: rule.specText, summary: rule.summary, origin: "user",
            createdMs: 0, expiresMs: nil, expiresText: nil)
        current.byID[record.id] = record
        current.byKey[rule] = record.id
        ActiveRules.holdExact(rule.elements, owner: record.id, in: &current.exact)
        let again = try await Self.prepare([host, Self.entries(1)[0]], current: current)
        #expect(again.unchanged == [record.id] && again.count == 1)
        let clash = await #expect(throws: AiosError.self) {
            try await Self.prepare([["port": 443, "source": "10.9.9.9"]], current: current)
        }
        #expect(clash?.message.contains(record.id) == true, "\(clash?.message ?? "")")
    }

    @Test(
        "a rule committed between a batch's plan and its apply is found again: the same rule, or one on the same hash-set element; an expired or unrelated one is not"
    )
    func conflictSincePlan() async throws {
        let host: JSONValue = ["port": [80, 443], "source": "10.9.9.9"]
        let batch = try await Self.prepare([host, Self.entries(1)[0]])
        func snapshot(_ json: JSONValue, expiresMs: Int64? = nil) throws -> ActiveRules.Snapshot {
            let rule = try Self.rule(json)
            let record = FirewallRuleRecord(
                id: "00000000000000bb", verdict: "allow", specText: rule.specText, summary: rule.summary,
                origin: "user", createdMs: 0, expiresMs: expiresMs, expiresText: nil)
            return ActiveRules.build([record]).0
        }
        let same = EntryPlanner.conflict(batch, with: try snapshot(host), now: 1000)
        #expect(same?.message.contains("00000000000000bb") == true && same?.message.contains("unchanged") == true)
        let shared = EntryPlanner.conflict(batch, with: try snapshot(["port": 443, "source": "10.9.9.9"]), now: 1000)
        #expect(shared?.message.contains("same set element") == true, "\(shared?.message ?? "")")
        #expect(EntryPlanner.conflict(batch, with: try snapshot(host, expiresMs: 500), now: 1000) == nil)
        #expect(EntryPlanner.conflict(batch, with: try snapshot(["port": 22, "source": "10.9.9.8"]), now: 1000) == nil)
        // A batch that found a rule in force (unchanged) is refused once that rule is gone.
        let inForce = try snapshot(host)
        let partly = try await Self.prepare([host, Self.entries(1)[0]], current: inForce)
        #expect(partly.unchanged == ["00000000000000bb"] && partly.count == 1)
        #expect(EntryPlanner.conflict(partly, with: inForce, now: 1000) == nil)
        let gone = EntryPlanner.conflict(partly, with: ActiveRules.Snapshot(), now: 1000)
        #expect(gone?.message.contains("removed or expired meanwhile") == true, "\(gone?.message ?? "")")
    }

    @Test("two entries writing one hash-set element are refused, also from different chunks")
    func sharedElement() async throws {
        var raw = Self.entries(3 * EntryPlanner.parallelChunk)
        // Entry 1's element (port 2, its host) again, inside a port list in the last chunk.
        raw.append(Self.with(raw[1], "port", [40_000, 2]))
        let error = await #expect(throws: AiosError.self) { try await Self.prepare(raw) }
        #expect(error?.location?.field == "input.entries[\(raw.count - 1)]")
        #expect(error?.message.contains("input.entries[1]") == true, "\(error?.message ?? "")")
        // A port listed twice in one rule is not a clash with itself.
        let twice = [Self.with(Self.entries(1)[0], "port", [7, 7])]
        #expect(try await Self.prepare(twice).count == 1)
    }

    @Test("the error named is the first in the input, whichever chunk finds it", arguments: [[3, 14_000], [14_000]])
    func firstError(bad: [Int]) async throws {
        let raw = Self.entries(3 * EntryPlanner.parallelChunk, bad: bad)
        let error = await #expect(throws: AiosError.self) { try await Self.prepare(raw) }
        #expect(error?.location?.field == "input.entries[\(bad[0])].port")
    }
}
