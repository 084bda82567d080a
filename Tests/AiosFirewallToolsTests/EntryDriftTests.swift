import AiosCore
import AiosStore
import Testing

@testable import AiosFirewallTools

@Suite("entry drift: the kernel's elements against the rules in force")
struct EntryDriftTests {
    static func rule(_ json: JSONValue, verdict: String = "allow") throws -> EntryRule {
        try EntryRule.from(try json.decode(as: RuleInput.self), verdict: verdict, field: "input")
    }

    static func record(_ id: String, _ rule: EntryRule, expiresMs: Int64? = nil) -> FirewallRuleRecord {
        FirewallRuleRecord(
            id: id, verdict: rule.verdict, specText: rule.specText, summary: rule.summary, origin: "user",
            createdMs: 0, expiresMs: expiresMs, expiresText: nil)
    }

    static func position(_ name: String) throws -> Int {
        try #require(EntrySets.all.firstIndex { $0.name == name })
    }

    @Test(
        "an element and its listing give one key, whatever form the listing takes",
        arguments: [
            (["port": 8080, "source": "10.1.2.3"], "input_allow_v4_src", ["concat": ["10.1.2.3", "tcp", 8080]]),
            (
                ["protocol": "udp", "port": 53, "destination": "fd00::53", "chain": "output"], "output_allow_v6_dst",
                ["concat": ["fd00::53", 17, 53]]
            ),
            (
                ["port": "1000-2000", "source": "10.1.0.0/16"], "input_allow_v4",
                [
                    "concat": [
                        ["prefix": ["addr": "10.1.0.0", "len": 16]], ["prefix": ["addr": "0.0.0.0", "len": 0]], "tcp",
                        ["range": [1000, 2000]],
                    ]
                ]
            ),
            (
                ["protocol": "icmp", "source": "fd00:1::/64"], "input_allow_v6",
                [
                    "concat": [
                        ["prefix": ["addr": "fd00:1::", "len": 64]],
                        ["range": ["::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]],
                        "ipv6-icmp", ["range": [0, 65535]],
                    ]
                ]
            ),
            (
                ["protocol": "any", "source": "10.4.0.9", "interface": "eth0"], "input_allow_v4_if",
                [
                    "concat": [
                        "eth0", "10.4.0.9", ["prefix": ["addr": "0.0.0.0", "len": 0]], ["range": [0, 255]],
                        ["range": [0, 65535]],
                    ]
                ]
            ),
        ] as [(JSONValue, String, JSONValue)])
    func sameKey(input: JSONValue, set: String, listed: JSONValue) throws {
        let elements = try Self.rule(input).elements
        #expect(elements.count == 1 && elements[0].set == set)
        let position = try Self.position(set)
        #expect(ElementKey(listed: listed, set: position) == ElementKey(elements[0]))
    }

    @Test("a listed value not of the set's shape has no key")
    func foreignShape() throws {
        let position = try Self.position("input_allow_v4_src")
        #expect(ElementKey(listed: ["concat": ["10.1.2.3", "tcp"]], set: position) == nil)
        #expect(ElementKey(listed: ["concat": ["not an address", "tcp", 80]], set: position) == nil)
        #expect(ElementKey(listed: "10.1.2.3", set: position) == nil)
    }

    @Test(
        "missing and unknown elements are found both ways; a rule about to expire counts neither way; the repair adds the missing with their remaining lifetime and deletes the unknown"
    )
    func comparison() throws {
        let now: Int64 = 1_000_000
        let kept = try Self.rule(["port": 22, "source": "10.0.0.1"])
        let lost = try Self.rule(["port": 22, "source": "10.0.0.2"])
        let ending = try Self.rule(["port": 22, "source": "10.0.0.3"])
        let records = [
            Self.record("000000000000000a", kept), Self.record("000000000000000b", lost, expiresMs: now + 90_500),
            Self.record("000000000000000c", ending, expiresMs: now + 500),
        ]
        let (snapshot, _) = ActiveRules.build(records)
        let listing: [JSONValue] = [
            ["table": ["family": "inet", "name": "aios_firewall"]],
            [
                "set": [
                    "name": "input_allow_v4_src",
                    "elem": [
                        ["elem": ["val": ["concat": ["10.0.0.1", "tcp", 22]], "timeout": 60, "expires": 50]],
                        ["concat": ["10.0.0.9", "tcp", 22]],
                    ],
                ]
            ],
            ["set": ["name": "mgmt_v4", "elem": ["192.0.2.0/24"]]],
        ]
        let comparison = EntryComparison(snapshot: snapshot, objects: listing, now: now)
        let drift = comparison.drift
        #expect(drift.rules == 2 && drift.elements == 2 && drift.inKernel == 2)
        #expect(drift.missing.map(\.rule) == ["000000000000000b"] && drift.missingCount == 1)
        #expect(drift.unknown.map(\.element) == [["concat": ["10.0.0.9", "tcp", 22]]] && drift.unknownCount == 1)
        #expect(!drift.isClean)
        let (deletions, additions) = comparison.repairCommands(table: "aios_firewall", now: now)
        #expect(
            deletions == [
                [
                    "delete": [
                        "element": [
                            "family": "inet", "table": "aios_firewall", "name": "input_allow_v4_src",
                            "elem": [["concat": ["10.0.0.9", "tcp", 22]]],
                        ]
                    ]
                ]
            ])
        // 90.5 s left: rounded down, never extended.
        #expect(
            try additions.map { try JSONValue(parsing: $0) } == [
                [
                    "add": [
                        "element": [
                            "family": "inet", "table": "aios_firewall", "name": "input_allow_v4_src",
                            "elem": [["elem": ["val": ["concat": ["10.0.0.2", 6, 22]], "timeout": 90]]],
                        ]
                    ]
                ]
            ])
        let clean = EntryComparison(
            snapshot: ActiveRules.build([records[0]]).0,
            objects: [["set": ["name": "input_allow_v4_src", "elem": [["concat": ["10.0.0.1", "tcp", 22]]]]]], now: now)
        #expect(clean.drift.isClean && clean.drift.inKernel == 1)
    }
}
