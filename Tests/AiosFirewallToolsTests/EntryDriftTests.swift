import AiosCore
import AiosLinux
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

    /// A port's word: 2 bytes big-endian, then padding.
    static func port(_ port: Int) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 255), 0, 0] }
    static let anyV4: (low: [UInt8], high: [UInt8]) = ([0, 0, 0, 0], [255, 255, 255, 255])

    @Test(
        "an element and the kernel's bytes for it give one key; the key's value is nft's JSON",
        arguments: [
            (
                ["port": 8080, "source": "10.1.2.3"], "input_allow_v4_src",
                NftablesSetElement(key: [10, 1, 2, 3, 6, 0, 0, 0] + port(8080), keyEnd: nil, expiresMs: 5000),
                ["concat": ["10.1.2.3", 6, 8080]]
            ),
            (
                ["protocol": "udp", "port": 53, "destination": "fd00::53", "chain": "output"], "output_allow_v6_dst",
                NftablesSetElement(
                    key: [0xfd] + [UInt8](repeating: 0, count: 14) + [0x53, 17, 0, 0, 0] + port(53), keyEnd: nil,
                    expiresMs: nil),
                ["concat": ["fd00::53", 17, 53]]
            ),
            (
                ["port": "1000-2000", "source": "10.1.0.0/16"], "input_allow_v4",
                NftablesSetElement(
                    key: [10, 1, 0, 0] + anyV4.low + [6, 0, 0, 0] + port(1000),
                    keyEnd: [10, 1, 255, 255] + anyV4.high + [6, 0, 0, 0] + port(2000), expiresMs: nil),
                [
                    "concat": [
                        ["prefix": ["addr": "10.1.0.0", "len": 16]], ["prefix": ["addr": "0.0.0.0", "len": 0]], 6,
                        ["range": [1000, 2000]],
                    ]
                ]
            ),
            (
                ["protocol": "any", "source": "10.4.0.9", "interface": "eth0"], "input_allow_v4_if",
                NftablesSetElement(
                    key: Array("eth0".utf8) + [UInt8](repeating: 0, count: 12) + [10, 4, 0, 9] + anyV4.low
                        + [0, 0, 0, 0] + port(0),
                    keyEnd: Array("eth0".utf8) + [UInt8](repeating: 0, count: 12) + [10, 4, 0, 9] + anyV4.high
                        + [255, 0, 0, 0] + port(65535), expiresMs: nil),
                [
                    "concat": [
                        "eth0", "10.4.0.9", ["prefix": ["addr": "0.0.0.0", "len": 0]], ["range": [0, 255]],
                        ["range": [0, 65535]],
                    ]
                ]
            ),
            (
                // A wildcard: `wg` padded with 0x00 up to `wg` padded with 0xff, as nft writes it.
                ["protocol": "udp", "port": 53, "interface": "wg*", "destination": "0.0.0.0/0"], "input_allow_v4_if",
                NftablesSetElement(
                    key: Array("wg".utf8) + [UInt8](repeating: 0, count: 14) + anyV4.low + anyV4.low
                        + [17, 0, 0, 0] + port(53),
                    keyEnd: Array("wg".utf8) + [UInt8](repeating: 0xff, count: 14) + anyV4.high + anyV4.high
                        + [17, 0, 0, 0] + port(53), expiresMs: nil),
                [
                    "concat": [
                        "wg*", ["prefix": ["addr": "0.0.0.0", "len": 0]], ["prefix": ["addr": "0.0.0.0", "len": 0]], 17,
                        53,
                    ]
                ]
            ),
        ] as [(JSONValue, String, NftablesSetElement, JSONValue)])
    func sameKey(input: JSONValue, set: String, kernel: NftablesSetElement, value: JSONValue) throws {
        let elements = try Self.rule(input).elements
        #expect(elements.count == 1 && elements[0].set == set)
        let key = try #require(ElementKey(kernel: kernel, set: try Self.position(set)))
        #expect(key == ElementKey(elements[0]))
        #expect(key.value == value)
        // What aios-net sends for the element is those bytes.
        let sent = elements[0].kernelKeys
        #expect(sent.key.bytes == kernel.key && sent.end?.bytes == kernel.keyEnd)
    }

    @Test("a range that is not a prefix is written as a range; bytes of another layout have no key")
    func otherForms() throws {
        let box = try Self.position("input_deny_v4")
        let range = try #require(
            ElementKey(
                kernel: NftablesSetElement(
                    key: [10, 0, 0, 5] + Self.anyV4.low + [17, 0, 0, 0] + Self.port(53),
                    keyEnd: [10, 0, 0, 9] + Self.anyV4.high + [17, 0, 0, 0] + Self.port(53), expiresMs: nil),
                set: box))
        #expect(
            range.value == [
                "concat": [["range": ["10.0.0.5", "10.0.0.9"]], ["prefix": ["addr": "0.0.0.0", "len": 0]], 17, 53]
            ])
        let exact = try Self.position("input_allow_v4_src")
        #expect(
            ElementKey(kernel: NftablesSetElement(key: [10, 1, 2, 3, 6, 0, 0, 0], expiresMs: nil), set: exact) == nil)
        #expect(
            ElementKey(
                kernel: NftablesSetElement(
                    key: [10, 0, 0, 9] + Self.anyV4.low + [6, 0, 0, 0] + Self.port(1),
                    keyEnd: [10, 0, 0, 5] + Self.anyV4.high + [6, 0, 0, 0] + Self.port(2), expiresMs: nil), set: box)
                == nil, "an end before its start")
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
        var kernel = [[NftablesSetElement]](repeating: [], count: EntrySets.all.count)
        kernel[try Self.position("input_allow_v4_src")] = [
            NftablesSetElement(key: [10, 0, 0, 1, 6, 0, 0, 0] + Self.port(22), keyEnd: nil, expiresMs: 50_000),
            NftablesSetElement(key: [10, 0, 0, 9, 6, 0, 0, 0] + Self.port(22), keyEnd: nil, expiresMs: nil),
        ]
        let comparison = EntryComparison(snapshot: snapshot, kernel: kernel, now: now)
        let drift = comparison.drift
        #expect(drift.rules == 2 && drift.elements == 2 && drift.inKernel == 2)
        #expect(drift.missing.map(\.rule) == ["000000000000000b"] && drift.missingCount == 1)
        #expect(drift.unknown.map(\.element) == [["concat": ["10.0.0.9", 6, 22]]] && drift.unknownCount == 1)
        #expect(!drift.isClean)
        // One transaction: the unknown element deleted by the kernel's own bytes, then the missing one
        // added with its remaining lifetime, 90.5 s rounded down (never extended).
        let repair = comparison.repairTransaction(table: "aios_firewall", now: now).decoded()
        #expect(repair.map(\.set) == ["input_allow_v4_src", "input_allow_v4_src"])
        #expect(repair.map(\.change) == [.delete, .add])
        #expect(repair.first?.elements == [NftablesSetElement(key: [10, 0, 0, 9, 6, 0, 0, 0] + Self.port(22))])
        #expect(
            repair.last?.elements == [
                NftablesSetElement(key: [10, 0, 0, 2, 6, 0, 0, 0] + Self.port(22), timeoutMs: 90_000)
            ])
        var one = [[NftablesSetElement]](repeating: [], count: EntrySets.all.count)
        one[try Self.position("input_allow_v4_src")] = [kernel[try Self.position("input_allow_v4_src")][0]]
        let clean = EntryComparison(snapshot: ActiveRules.build([records[0]]).0, kernel: one, now: now)
        #expect(clean.drift.isClean && clean.drift.inKernel == 1)
    }
}
