import AiosCore

/// How a set's elements are keyed. Most entries are one host and one port (an allowlist, a
/// fail2ban-style block): those go to hash sets, which the kernel fills several times faster than
/// interval sets and which cannot overlap; everything else is a box in an interval set.
enum EntryShape: String, CaseIterable, Sendable, Hashable {
    /// `saddr . daddr . l4proto . th dport`, flags interval + timeout ("any" is `0.0.0.0/0`,
    /// `::/0`, `0-255`, `0-65535`).
    case box
    /// `ifname . saddr . daddr . l4proto . th dport` (an interface given), interval + timeout.
    case boxOnInterface
    /// `saddr . l4proto . th dport`, exact (hash + timeout): one source host, any destination,
    /// tcp or udp, one port.
    case source
    /// `daddr . l4proto . th dport`, exact: one destination host, any source, tcp or udp, one port.
    case destination

    /// Exact-match (hash) shapes hold no ranges, so nothing in them can overlap.
    var isExact: Bool { self == .source || self == .destination }

    /// Set-name suffix (`_if`); rule ids use it with a dash (`-if`).
    var suffix: String {
        switch self {
        case .box: ""
        case .boxOnInterface: "_if"
        case .source: "_src"
        case .destination: "_dst"
        }
    }

    var idSuffix: String { String(suffix.map { $0 == "_" ? "-" : $0 }) }

    /// The position in `allCases`.
    var position: Int {
        switch self {
        case .box: 0
        case .boxOnInterface: 1
        case .source: 2
        case .destination: 3
        }
    }
}

/// The sets that hold dynamic allow/deny entries, one per chain × verdict × family × shape, each
/// matched by one rule. Entries are set elements (with timeouts for expiring ones), so the rule
/// count never grows with the number of entries.
enum EntrySets {
    static let chains = ["input", "output", "forward"]
    static let verdicts = ["deny", "allow"]
    static let families = ["v4", "v6"]

    /// `input_allow_v4`, `output_deny_v6_if`, `input_allow_v4_src`, …
    static func name(chain: String, verdict: String, family: String, shape: EntryShape) -> String {
        "\(chain)_\(verdict)_\(family)\(shape.suffix)"
    }

    /// The position of a set in `all` (chains × verdicts × families × shapes).
    static func index(chain: String, verdict: String, family: String, shape: EntryShape) -> Int {
        // Without searching `chains` or `allCases` (an array built per call): every element of a
        // 100k batch asks this.
        let chainIndex =
            switch chain {
            case "output": 1
            case "forward": 2
            default: 0
            }
        let verdictIndex = verdict == "deny" ? 0 : 1
        let familyIndex = family == "v4" ? 0 : 1
        return ((chainIndex * verdicts.count + verdictIndex) * families.count + familyIndex) * shapeCount
            + shape.position
    }

    /// `EntryShape.allCases.count`.
    static let shapeCount = EntryShape.allCases.count

    /// The rule id (`in-allow-v4-if`) for a set.
    static func ruleID(chain: String, verdict: String, family: String, shape: EntryShape) -> String {
        let prefix = ["input": "in", "output": "out", "forward": "fwd"][chain] ?? chain
        return "\(prefix)-\(verdict)-\(family)\(shape.idSuffix)"
    }

    struct Entry: Sendable {
        var name: String
        var id: String
        var chain: String
        var verdict: String
        var family: String
        var shape: EntryShape
    }

    /// Every combination, in rule order within a chain and verdict.
    static let all: [Entry] = chains.flatMap { chain in
        verdicts.flatMap { verdict in
            families.flatMap { family in
                EntryShape.allCases.map { shape in
                    Entry(
                        name: name(chain: chain, verdict: verdict, family: family, shape: shape),
                        id: ruleID(chain: chain, verdict: verdict, family: family, shape: shape), chain: chain,
                        verdict: verdict, family: family, shape: shape)
                }
            }
        }
    }

    /// The `add set` body.
    static func set(table: String, name: String, family: String, shape: EntryShape) -> JSONValue {
        let address: JSONValue = family == "v4" ? "ipv4_addr" : "ipv6_addr"
        let type: [JSONValue]
        switch shape {
        case .box: type = [address, address, "inet_proto", "inet_service"]
        case .boxOnInterface: type = ["ifname", address, address, "inet_proto", "inet_service"]
        case .source, .destination: type = [address, "inet_proto", "inet_service"]
        }
        return [
            "family": "inet", "table": .string(table), "name": .string(name), "type": .array(type),
            "flags": shape.isExact ? ["timeout"] : ["interval", "timeout"],
        ]
    }

    /// The match-and-verdict expressions of the rule for one set.
    static func rule(name: String, chain: String, verdict: String, family: String, shape: EntryShape) -> [JSONValue] {
        let protocolName = family == "v4" ? "ip" : "ip6"
        let source: JSONValue = ["payload": ["protocol": .string(protocolName), "field": "saddr"]]
        let destination: JSONValue = ["payload": ["protocol": .string(protocolName), "field": "daddr"]]
        let tail: [JSONValue] = [["meta": ["key": "l4proto"]], ["payload": ["protocol": "th", "field": "dport"]]]
        let keys: [JSONValue]
        switch shape {
        case .box: keys = [source, destination] + tail
        case .boxOnInterface:
            keys = [["meta": ["key": chain == "output" ? "oifname" : "iifname"]], source, destination] + tail
        case .source: keys = [source] + tail
        case .destination: keys = [destination] + tail
        }
        return [
            ["match": ["op": "==", "left": ["concat": .array(keys)], "right": .string("@\(name)")]],
            ["counter": nil],
            verdict == "allow" ? ["accept": nil] : ["drop": nil],
        ]
    }
}
