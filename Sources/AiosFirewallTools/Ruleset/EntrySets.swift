import AiosCore

/// The sets that hold dynamic allow/deny entries, one per chain × verdict × family × (with or
/// without an interface), each matched by one rule. Entries are set elements (with timeouts for
/// expiring ones), so the rule count never grows with the number of entries.
///
/// Element key: `[ifname .] saddr . daddr . l4proto . th dport`, flags interval + timeout
/// ("any" is `0.0.0.0/0`, `::/0`, `0-255`, `0-65535`).
enum EntrySets {
    static let chains = ["input", "output", "forward"]
    static let verdicts = ["deny", "allow"]
    static let families = ["v4", "v6"]

    /// `input_allow_v4`, `output_deny_v6_if`, …
    static func name(chain: String, verdict: String, family: String, interface: Bool) -> String {
        "\(chain)_\(verdict)_\(family)\(interface ? "_if" : "")"
    }

    /// The rule id (`in-allow-v4-if`) for a set.
    static func ruleID(chain: String, verdict: String, family: String, interface: Bool) -> String {
        let prefix = ["input": "in", "output": "out", "forward": "fwd"][chain] ?? chain
        return "\(prefix)-\(verdict)-\(family)\(interface ? "-if" : "")"
    }

    /// Every (name, rule id, chain, verdict, family, interface) combination.
    static var all: [(name: String, id: String, chain: String, verdict: String, family: String, interface: Bool)] {
        chains.flatMap { chain in
            verdicts.flatMap { verdict in
                families.flatMap { family in
                    [false, true].map { interface in
                        (
                            name(chain: chain, verdict: verdict, family: family, interface: interface),
                            ruleID(chain: chain, verdict: verdict, family: family, interface: interface), chain,
                            verdict,
                            family, interface
                        )
                    }
                }
            }
        }
    }

    /// The `add set` body.
    static func set(table: String, name: String, family: String, interface: Bool) -> JSONValue {
        let address: JSONValue = family == "v4" ? "ipv4_addr" : "ipv6_addr"
        var type: [JSONValue] = [address, address, "inet_proto", "inet_service"]
        if interface { type.insert("ifname", at: 0) }
        return [
            "family": "inet", "table": .string(table), "name": .string(name), "type": .array(type),
            "flags": ["interval", "timeout"],
        ]
    }

    /// The match-and-verdict expressions of the rule for one set.
    static func rule(name: String, chain: String, verdict: String, family: String, interface: Bool) -> [JSONValue] {
        let protocolName = family == "v4" ? "ip" : "ip6"
        var keys: [JSONValue] = [
            ["payload": ["protocol": .string(protocolName), "field": "saddr"]],
            ["payload": ["protocol": .string(protocolName), "field": "daddr"]],
            ["meta": ["key": "l4proto"]],
            ["payload": ["protocol": "th", "field": "dport"]],
        ]
        if interface { keys.insert(["meta": ["key": chain == "output" ? "oifname" : "iifname"]], at: 0) }
        return [
            ["match": ["op": "==", "left": ["concat": .array(keys)], "right": .string("@\(name)")]],
            ["counter": nil],
            verdict == "allow" ? ["accept": nil] : ["drop": nil],
        ]
    }
}
