import AiosCore

/// The default ruleset of seed 001 as libnftables JSON commands: input/output/forward policy drop,
/// loopback and established traffic, management access (TCP 22/9090 from the management subnets,
/// via sets so the rule count never grows), ICMP echo in and out (and the ICMPv6 neighbour discovery IPv6
/// needs), DNS/HTTPS/NTP/DHCP out, logged drops. Every rule carries a comment `aios:default:<id>` so
/// drift can be found by id.
struct DefaultRuleset {
    let table: String
    let managementV4: [String]
    let managementV6: [String]
    let managementPorts: [Int]
    /// Bridges of sandbox networks: their traffic is decided by table `inet aios_sandbox` (which
    /// drops what its profiles do not allow), so this table lets it through.
    var sandboxBridges: [String] = []

    /// Rule ids per chain, in order: deny entries come before everything they could be shadowed by
    /// (deny beats allow), allow entries just before the logged drop.
    static let ruleIDs: [String: [String]] = [
        "input": ["in-loopback", "in-established"] + entryIDs("input", "deny")
            + ["in-sandbox", "in-management-v4", "in-management-v6", "in-icmp", "in-icmpv6"]
            + entryIDs("input", "allow") + [
                "in-drop"
            ],
        "output": ["out-loopback", "out-established"] + entryIDs("output", "deny")
            + ["out-tcp", "out-udp", "out-dhcp", "out-icmp", "out-icmpv6"] + entryIDs("output", "allow") + [
                "out-drop"
            ],
        "forward": ["fwd-established"] + entryIDs("forward", "deny") + ["fwd-sandbox-in", "fwd-sandbox-out"]
            + entryIDs("forward", "allow") + ["fwd-drop"],
    ]

    private static func entryIDs(_ chain: String, _ verdict: String) -> [String] {
        EntrySets.all.filter { $0.chain == chain && $0.verdict == verdict }.map(\.id)
    }

    static let logPrefixes = [
        "in-drop": "aios-fw-drop: ", "out-drop": "aios-fw-out-drop: ", "fwd-drop": "aios-fw-fwd-drop: ",
    ]

    /// One transaction that installs or repairs the ruleset, keeping every other set in the table
    /// (and so the remaining lifetime of their elements): chains and management sets are added
    /// (idempotent), flushed and refilled; the table is never deleted.
    func commands() -> [JSONValue] {
        var out: [JSONValue] = [["add": ["table": ["family": "inet", "name": .string(table)]]]]
        for chain in ["input", "output", "forward"] {
            var body = base
            body["name"] = .string(chain)
            body["type"] = "filter"
            body["hook"] = .string(chain)
            body["prio"] = 0
            body["policy"] = "drop"
            out.append(["add": ["chain": .object(body)]])
        }
        for (name, type, flags) in [
            ("mgmt_v4", "ipv4_addr", ["interval"]), ("mgmt_v6", "ipv6_addr", ["interval"]),
            ("mgmt_ports", "inet_service", []), (Self.sandboxSet, "ifname", []),
        ] {
            var body = base
            body["name"] = .string(name)
            body["type"] = .string(type)
            if !flags.isEmpty { body["flags"] = .array(flags.map(JSONValue.string)) }
            out.append(["add": ["set": .object(body)]])
            out.append(["flush": ["set": .object(reference(name))]])
        }
        for (name, values) in [
            ("mgmt_v4", managementV4.map(NftExpression.prefix)), ("mgmt_v6", managementV6.map(NftExpression.prefix)),
            ("mgmt_ports", managementPorts.map { JSONValue.number(Double($0)) }),
            (Self.sandboxSet, sandboxBridges.map(JSONValue.string)),
        ] where !values.isEmpty {
            var body = reference(name)
            body["elem"] = .array(values)
            out.append(["add": ["element": .object(body)]])
        }
        // Entry sets are only added (idempotent), never flushed: their elements and timers survive a repair.
        for entrySet in EntrySets.all {
            out.append([
                "add": [
                    "set": EntrySets.set(
                        table: table, name: entrySet.name, family: entrySet.family, shape: entrySet.shape)
                ]
            ])
        }
        for chain in ["input", "output", "forward"] {
            out.append(["flush": ["chain": .object(reference(chain))]])
        }
        for (chain, rules) in rules() {
            for (id, expressions) in rules {
                var body = base
                body["chain"] = .string(chain)
                body["comment"] = .string("aios:default:\(id)")
                body["expr"] = .array(expressions)
                out.append(["add": ["rule": .object(body)]])
            }
        }
        return out
    }

    /// The set of sandbox bridges (ifname).
    static let sandboxSet = "sandbox_bridges"

    private var base: [String: JSONValue] { ["family": "inet", "table": .string(table)] }

    private func reference(_ name: String) -> [String: JSONValue] {
        var body = base
        body["name"] = .string(name)
        return body
    }

    private static func match(_ left: JSONValue, _ right: JSONValue, op: String = "==") -> JSONValue {
        NftExpression.match(left, right, op: op)
    }

    private static func payload(_ protocolName: String, _ field: String) -> JSONValue {
        NftExpression.payload(protocolName, field)
    }

    private static let established = NftExpression.established
    private static let accept = NftExpression.accept

    private static func loggedDrop(_ id: String) -> [JSONValue] {
        [NftExpression.counter, NftExpression.log(logPrefixes[id] ?? "aios-fw-drop: "), NftExpression.drop]
    }

    private func rules() -> [(String, [(String, [JSONValue])])] {
        let ordered = fixedRules()
        return ordered.map { chain, fixed in
            let byID = Dictionary(fixed, uniquingKeysWith: { first, _ in first })
            let entries = Dictionary(
                EntrySets.all.filter { $0.chain == chain }.map {
                    (
                        $0.id,
                        EntrySets.rule(
                            name: $0.name, chain: $0.chain, verdict: $0.verdict, family: $0.family,
                            shape: $0.shape)
                    )
                }, uniquingKeysWith: { first, _ in first })
            return (chain, (Self.ruleIDs[chain] ?? []).compactMap { id in (byID[id] ?? entries[id]).map { (id, $0) } })
        }
    }

    private func fixedRules() -> [(String, [(String, [JSONValue])])] {
        let ndTypes: JSONValue = [
            "set": ["nd-neighbor-solicit", "nd-neighbor-advert", "nd-router-advert", "nd-router-solicit"]
        ]
        return [
            (
                "input",
                [
                    ("in-loopback", [Self.match(["meta": ["key": "iifname"]], "lo"), Self.accept]),
                    ("in-established", [Self.established, Self.accept]),
                    (
                        "in-sandbox",
                        [Self.match(NftExpression.meta("iifname"), .string("@\(Self.sandboxSet)")), Self.accept]
                    ),
                    (
                        "in-management-v4",
                        [
                            Self.match(Self.payload("ip", "saddr"), "@mgmt_v4"),
                            Self.match(Self.payload("tcp", "dport"), "@mgmt_ports"), Self.accept,
                        ]
                    ),
                    (
                        "in-management-v6",
                        [
                            Self.match(Self.payload("ip6", "saddr"), "@mgmt_v6"),
                            Self.match(Self.payload("tcp", "dport"), "@mgmt_ports"), Self.accept,
                        ]
                    ),
                    ("in-icmp", [Self.match(Self.payload("icmp", "type"), "echo-request"), Self.accept]),
                    (
                        "in-icmpv6",
                        [
                            Self.match(
                                Self.payload("icmpv6", "type"),
                                [
                                    "set": [
                                        "echo-request", "nd-neighbor-solicit", "nd-neighbor-advert", "nd-router-advert",
                                    ]
                                ]), Self.accept,
                        ]
                    ),
                    ("in-drop", Self.loggedDrop("in-drop")),
                ]
            ),
            (
                "output",
                [
                    ("out-loopback", [Self.match(["meta": ["key": "oifname"]], "lo"), Self.accept]),
                    ("out-established", [Self.established, Self.accept]),
                    ("out-tcp", [Self.match(Self.payload("tcp", "dport"), ["set": [53, 443]]), Self.accept]),
                    ("out-udp", [Self.match(Self.payload("udp", "dport"), ["set": [53, 123]]), Self.accept]),
                    // DHCP renewals (unicast to the server) and the checks' gateway ping: without
                    // them a lease lapses and the boot's probe cannot pass.
                    ("out-dhcp", [Self.match(Self.payload("udp", "dport"), 67), Self.accept]),
                    ("out-icmp", [Self.match(Self.payload("icmp", "type"), "echo-request"), Self.accept]),
                    ("out-icmpv6", [Self.match(Self.payload("icmpv6", "type"), ndTypes), Self.accept]),
                    ("out-drop", Self.loggedDrop("out-drop")),
                ]
            ),
            (
                "forward",
                [
                    ("fwd-established", [Self.established, Self.accept]),
                    (
                        "fwd-sandbox-in",
                        [Self.match(NftExpression.meta("iifname"), .string("@\(Self.sandboxSet)")), Self.accept]
                    ),
                    (
                        "fwd-sandbox-out",
                        [Self.match(NftExpression.meta("oifname"), .string("@\(Self.sandboxSet)")), Self.accept]
                    ),
                    ("fwd-drop", Self.loggedDrop("fwd-drop")),
                ]
            ),
        ]
    }
}
