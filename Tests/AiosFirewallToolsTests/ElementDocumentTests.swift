import AiosCore
import AiosStore
import Testing

@testable import AiosFirewallTools

@Suite("the add-element document, written directly")
struct ElementDocumentTests {
    static func rule(_ json: JSONValue, verdict: String = "allow") throws -> EntryRule {
        try EntryRule.from(try json.decode(as: RuleInput.self), verdict: verdict, field: "input")
    }

    static func record(_ id: String, expiresMs: Int64?) -> FirewallRuleRecord {
        FirewallRuleRecord(
            id: id, verdict: "allow", spec: [:], summary: "", origin: "user", createdMs: 0,
            expiresMs: expiresMs, expiresText: nil)
    }

    @Test("every element's val is the Element's own JSON with its rule's timeout; one command per set")
    func matchesTheTree() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["protocol": "udp", "port": "60000-61000", "interface": "eth0"]),
            Self.rule(["port": [22, 443], "source": "fd00::/8", "destination": "fd00::1"]),
            Self.rule(["protocol": "icmp"]),
        ]
        let expiries: [Int64?] = [10_500, nil, 2_000, 1_000]
        var document = ElementDocument(now: 1_000)
        for (rule, expiresMs) in zip(rules, expiries) { document.add(rule.elements, expiresMs: expiresMs) }
        var seen: [String: [JSONValue]] = [:]
        for text in document.commands(table: "t") {
            let command = try JSONValue(parsing: text)
            let body = try #require(command["add"]?["element"])
            #expect(body["family"] == "inet" && body["table"] == "t")
            let name = try #require(body["name"]?.stringValue)
            #expect(seen[name] == nil, "one command per set")
            seen[name] = body["elem"]?.arrayValue ?? []
        }
        for (index, (rule, expiresMs)) in zip(rules, expiries).enumerated() {
            for element in rule.elements {
                let found = try #require(
                    seen[element.set]?.first { $0["elem"]?["val"] == element.value },
                    "rule \(index) element in \(element.set)")
                #expect(found["elem"]?["comment"] == nil)
                let timeout = found["elem"]?["timeout"]
                switch expiresMs {
                case 10_500: #expect(timeout == 10)  // 9.5 s left rounds up for a new rule
                case nil: #expect(timeout == nil)
                default: #expect(timeout == 1)  // 1 s left, or already due: at least one second
                }
            }
        }
        let total = rules.map(\.elements.count).reduce(0, +)
        #expect(seen.values.map(\.count).reduce(0, +) == total && document.count == total)
    }

    @Test("a later chunk appended keeps each set's elements in order, in the same command")
    func appendChunks() throws {
        let first = try Self.rule(["port": 8080, "source": "10.1.2.3"])
        let second = try Self.rule(["port": 8080, "source": "10.1.2.4"])
        var one = ElementDocument(now: 0)
        one.add(first.elements, expiresMs: nil)
        var other = ElementDocument(now: 0)
        other.add(second.elements, expiresMs: 5_000)
        one.append(other)
        let commands = one.commands(table: "t")
        #expect(commands.count == 1)
        let elements = try JSONValue(parsing: commands[0])["add"]?["element"]?["elem"]?.arrayValue ?? []
        #expect(elements.map { $0["elem"]?["val"] } == [first.elements[0].value, second.elements[0].value])
        #expect(elements.map { $0["elem"]?["timeout"] } == [nil, 5])
    }

    @Test("a deletion document: one delete-element command per set, of the bare values, no timeouts")
    func deletion() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["port": 8080, "source": "10.1.2.4"]),
            Self.rule(["protocol": "udp", "port": "60000-61000"]),
        ]
        let commands = EntryPlanner.deleteCommands(elements: rules.map(\.elements), table: "t")
        var seen: [String: [JSONValue]] = [:]
        for text in commands {
            let command = try JSONValue(parsing: text)
            #expect(command["add"] == nil)
            let body = try #require(command["delete"]?["element"])
            #expect(body["family"] == "inet" && body["table"] == "t")
            let name = try #require(body["name"]?.stringValue)
            #expect(seen[name] == nil, "one command per set")
            seen[name] = body["elem"]?.arrayValue ?? []
        }
        let expected = Dictionary(grouping: rules.flatMap(\.elements), by: \.set).mapValues { $0.map(\.value) }
        #expect(seen == expected)
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
        let text = try #require(
            EntryPlanner.addCommands(
                [(Self.record("r", expiresMs: 10_900), rule)], table: "t", now: 1_000, roundDown: true
            )
            .first)
        let element = try JSONValue(parsing: text)["add"]?["element"]?["elem"]?.arrayValue?.first
        #expect(element?["elem"]?["timeout"] == 9)
    }
}
