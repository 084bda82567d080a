import AiosCore
import AiosLinux
import AiosStore
import Testing

@testable import AiosFirewallTools

@Suite("the set elements of a change, in the kernel's encoding")
struct ElementListsTests {
    static func rule(_ json: JSONValue, verdict: String = "allow") throws -> EntryRule {
        try EntryRule.from(try json.decode(as: RuleInput.self), verdict: verdict, field: "input")
    }

    static func record(_ id: String, expiresMs: Int64?) -> FirewallRuleRecord {
        FirewallRuleRecord(
            id: id, verdict: "allow", spec: [:], summary: "", origin: "user", createdMs: 0,
            expiresMs: expiresMs, expiresText: nil)
    }

    /// What a transaction sends, read back from its encoded messages: per set, the elements'
    /// keys (decoded as the entry check decodes the kernel's) and timeouts, in order.
    static func sent(_ transaction: NftablesElementTransaction, change: NftablesElementTransaction.Change = .add)
        throws -> [String: [(key: ElementKey, timeoutMs: UInt64?)]]
    {
        var sets: [String: [(key: ElementKey, timeoutMs: UInt64?)]] = [:]
        for message in transaction.decoded() {
            #expect(message.change == change)
            let position = try #require(EntrySets.all.firstIndex { $0.name == message.set })
            for element in message.elements {
                let key = try #require(ElementKey(kernel: element, set: position), "\(message.set): \(element.key)")
                sets[message.set, default: []].append((key, element.timeoutMs))
            }
        }
        return sets
    }

    @Test("every element is sent with its own key and its rule's timeout, in its own set")
    func matchesTheElements() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["protocol": "udp", "port": "60000-61000", "interface": "eth0"]),
            Self.rule(["port": [22, 443], "source": "fd00::/8", "destination": "fd00::1"]),
            Self.rule(["protocol": "icmp"]),
            Self.rule(["port": 53, "protocol": "udp", "interface": "wg*"], verdict: "deny"),
        ]
        let expiries: [Int64?] = [10_500, nil, 2_000, 1_000, 61_000]
        var lists = ElementLists(now: 1_000)
        for (rule, expiresMs) in zip(rules, expiries) { lists.add(rule.elements, expiresMs: expiresMs) }
        let sent = try Self.sent(lists.transaction(table: "t"))
        for (index, (rule, expiresMs)) in zip(rules, expiries).enumerated() {
            for element in rule.elements {
                let found = try #require(
                    sent[element.set]?.first { $0.key == ElementKey(element) },
                    "rule \(index) element in \(element.set)")
                switch expiresMs {
                case 10_500: #expect(found.timeoutMs == 10_000)  // 9.5 s left rounds up for a new rule
                case 61_000: #expect(found.timeoutMs == 60_000)
                case nil: #expect(found.timeoutMs == nil)
                default: #expect(found.timeoutMs == 1_000)  // 1 s left, or already due: at least one second
                }
            }
        }
        let total = rules.map(\.elements.count).reduce(0, +)
        #expect(sent.values.map(\.count).reduce(0, +) == total && lists.count == total)
        #expect(sent.keys.contains("input_deny_v4_if") && sent.keys.contains("input_deny_v6_if"))
    }

    @Test("a later chunk appended keeps each set's elements in order, after the first chunk's")
    func appendChunks() throws {
        let first = try Self.rule(["port": 8080, "source": "10.1.2.3"])
        let second = try Self.rule(["port": 8080, "source": "10.1.2.4"])
        var one = ElementLists(now: 0)
        one.add(first.elements, expiresMs: nil)
        var other = ElementLists(now: 0)
        other.add(second.elements, expiresMs: 5_000)
        one.append(other)
        let sent = try Self.sent(one.transaction(table: "t"))
        #expect(sent.keys.sorted() == ["input_allow_v4_src"])
        #expect(
            sent["input_allow_v4_src"]?.map(\.key) == [ElementKey(first.elements[0]), ElementKey(second.elements[0])])
        #expect(sent["input_allow_v4_src"]?.map(\.timeoutMs) == [nil, 5_000])
    }

    @Test("a deletion sends the keys alone, set by set")
    func deletion() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["port": 8080, "source": "10.1.2.4"]),
            Self.rule(["protocol": "udp", "port": "60000-61000"]),
        ]
        let sent = try Self.sent(EntryPlanner.deleteElements(rules.map(\.elements), table: "t"), change: .delete)
        #expect(sent.values.allSatisfy { $0.allSatisfy { $0.timeoutMs == nil } })
        let expected = Dictionary(grouping: rules.flatMap(\.elements), by: \.set).mapValues { $0.map(ElementKey.init) }
        #expect(sent.mapValues { $0.map(\.key) } == expected)
    }

    @Test("a batch too big for one message is split into several, losing and reordering nothing")
    func split() throws {
        // Boxes on an interface in IPv6, the longest keys: 5,000 are ~650 KB, over ten messages.
        var lists = ElementLists(now: 0)
        var elements: [Element] = []
        for index in 0..<5_000 {
            let rule = try Self.rule([
                "source": .string("fd00::\(String(index, radix: 16))/128"), "interface": "eth0", "port": "1-2",
            ])
            lists.add(rule.elements, expiresMs: 60_000)
            elements += rule.elements
        }
        let messages = lists.transaction(table: "t").decoded()
        #expect(messages.count > 10)
        #expect(messages.allSatisfy { $0.set == "input_allow_v6_if" && $0.change == .add })
        let keys = messages.flatMap(\.elements).compactMap { ElementKey(kernel: $0, set: elements[0].setIndex) }
        #expect(keys == elements.map(ElementKey.init))
    }

    @Test("decimal digits as String writes them", arguments: [0, 1, 9, 10, 58, 65535, 1_000_000, Int(Int32.max)])
    func decimal(value: Int) {
        var text: [UInt8] = []
        text.appendDecimal(value)
        #expect(String(decoding: text, as: UTF8.self) == String(value))
    }

    @Test("a stored spec reads back as the rule, as the Codable decoder reads it")
    func specRoundTrip() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["protocol": "udp", "port": ["60000-61000", 53], "interface": "eth0"], verdict: "deny"),
            Self.rule(["protocol": "any", "destination": "fd00::/8", "chain": "forward"]),
        ]
        for rule in rules {
            #expect(try EntryRule(specText: rule.specText) == rule)
            #expect(try JSONValue(parsing: rule.specText).decode(as: EntryRule.self) == rule)
        }
        let error = #expect(throws: AiosError.self) { try EntryRule(specText: #"{"chain":"input"}"#) }
        #expect(error?.location?.field?.hasPrefix("spec.") == true)
    }

    @Test("each set's index finds it in EntrySets.all")
    func setIndex() {
        for entry in EntrySets.all {
            let index = EntrySets.index(
                chain: entry.chain, verdict: entry.verdict, family: entry.family, shape: entry.shape)
            #expect(EntrySets.all[index].name == entry.name)
        }
    }

    @Test("a restore rounds the remaining lifetime down, never extending it")
    func restoreRoundsDown() throws {
        let rule = try Self.rule(["port": 80])
        let transaction = EntryPlanner.addElements(
            [(Self.record("r", expiresMs: 10_900), rule)], table: "t", now: 1_000, roundDown: true)
        let sent = try Self.sent(transaction)
        #expect(sent.values.flatMap { $0 }.map(\.timeoutMs) == [9_000, 9_000])  // v4 and v6
    }
}
