import AiosCore
import Testing

@testable import AiosFirewallTools

@Suite("allow/deny input read straight from the tree")
struct TreeDecodingTests {
    static func summary(_ input: EntriesInput) throws -> [String] {
        let entries = try (0..<(input.entries?.count ?? 0)).map { try input.items.rule($0, field: "x") }
        return try ([input.rule] + entries).map { rule in
            rule.isEmpty
                ? "empty"
                : try EntryRule.from(rule, verdict: "allow", field: "x").summary
                    + " \(rule.comment ?? "-") \(rule.expires ?? "-")"
        }
    }

    @Test(
        "the same input as the Codable decoder reads",
        arguments: [
            ["port": 22, "source": "10.0.0.0/8", "comment": "ssh", "expires": "2h"],
            ["chain": "output", "protocol": "udp", "port": [53, "60000-61000"], "destination": "fd00::1"],
            ["protocol": "icmp", "interface": "eth0"],
            ["entries": [["port": 443], ["port": "8000-8080", "source": "192.0.2.1"]], "comment": "batch"],
        ] as [JSONValue])
    func agrees(json: JSONValue) throws {
        let tree = try EntriesInput(tree: json)
        let codable = try json.decode(as: EntriesInput.self)
        #expect(try Self.summary(tree) == Self.summary(codable))
        #expect(tree.entries?.count == codable.entries?.count)
    }

    @Test(
        "a wrong type names its field",
        arguments: [
            (["port": true] as JSONValue, "input.port"),
            (["entries": [["port": 22], ["source": 5]]], "input.entries[1].source"),
            (["entries": [["port": [22, false]]]], "input.entries[0].port[1]"),
            (["entries": [7]], "input.entries[0]"),
            (["entries": "x"], "input.entries"),
        ] as [(JSONValue, String)])
    func wrongType(json: JSONValue, field: String) async {
        // A batch's entries are read as they are planned, so planning is where their errors show.
        let error = await #expect(throws: AiosError.self) {
            let input = try EntriesInput(tree: json)
            _ = try await EntryPlanner.prepare(
                input.items,
                .init(
                    defaults: input.rule, verdict: "allow", now: 0, limit: nil, origin: "user",
                    single: input.entries == nil, current: .init()))
        }
        #expect(error?.location?.field == field)
    }
}
