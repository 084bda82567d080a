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

    @Test("every element's val is the Element's own JSON; comment and timeout per rule; one command per set")
    func matchesTheTree() throws {
        let rules = try [
            Self.rule(["port": 8080, "source": "10.1.2.3"]),
            Self.rule(["protocol": "udp", "port": "60000-61000", "interface": "eth0"]),
            Self.rule(["port": [22, 443], "source": "fd00::/8", "destination": "fd00::1"]),
            Self.rule(["protocol": "icmp"]),
        ]
        let records = [
            Self.record("a", expiresMs: 10_500), Self.record("b", expiresMs: nil), Self.record("c", expiresMs: 2_000),
            Self.record("d", expiresMs: 1_000),
        ]
        let elements = rules.map(\.elements)
        let commands = EntryPlanner.addCommands(records: records, elements: elements, table: "t", now: 1_000)
        var seen: [String: [JSONValue]] = [:]
        for text in commands {
            let command = try JSONValue(parsing: text)
            let body = try #require(command["add"]?["element"])
            #expect(body["family"] == "inet" && body["table"] == "t")
            let name = try #require(body["name"]?.stringValue)
            #expect(seen[name] == nil, "one command per set")
            seen[name] = body["elem"]?.arrayValue ?? []
        }
        for (index, (record, list)) in zip(records, elements).enumerated() {
            for element in list {
                let match = seen[element.set]?.first {
                    $0["elem"]?["val"] == element.value && $0["elem"]?["comment"] == .string("aios:\(record.id)")
                }
                let found = try #require(match, "rule \(index) element in \(element.set)")
                let timeout = found["elem"]?["timeout"]
                switch record.id {
                case "a": #expect(timeout == 10)  // 9.5 s left rounds up for a new rule
                case "b": #expect(timeout == nil)
                case "c": #expect(timeout == 1)
                default: #expect(timeout == 1)  // already due: at least one second
                }
            }
        }
        #expect(seen.values.map(\.count).reduce(0, +) == elements.map(\.count).reduce(0, +))
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
