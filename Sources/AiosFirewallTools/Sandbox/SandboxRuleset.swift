import AiosCore

/// The nftables side of sandbox networks, as libnftables JSON commands. Two tables, both aios-net's:
///
/// - `inet aios_sandbox`: the profiles. Traffic from a workload (known by its anti-spoofed address)
///   is looked up in verdict maps keyed by that address; replies pass, everything else on a
///   sandbox bridge is dropped and logged; new connections that are allowed are logged too
///   (`aios-sbx-conn: `). Workloads are masqueraded out of every non-sandbox interface.
/// - `bridge aios_sandbox`: layer 2. A workload port may only send IPv4/ARP from the address it
///   was given, and frames from one workload port to another are dropped (no workload-to-workload
///   traffic, which never reaches the inet hooks because the bridge switches it).
///
/// Chains are flushed and refilled in one transaction (so repairs never open a gap); sets and maps
/// are only added, so elements survive. The rule count never grows with the number of workloads.
enum SandboxRuleset {
    static let table = "aios_sandbox"
    static let connectionPrefix = "aios-sbx-conn: "
    static let dropPrefix = "aios-sbx-drop: "

    private typealias E = NftExpression

    /// Commands that install or repair both tables.
    static func skeleton() -> [JSONValue] {
        var out: [JSONValue] = [
            ["add": ["table": ["family": "inet", "name": .string(table)]]],
            ["add": ["table": ["family": "bridge", "name": .string(table)]]],
        ]
        for (name, type) in [("bridges", JSONValue.string("ifname")), ("workloads", "ipv4_addr")] {
            out.append(["add": ["set": .object(object("inet", ["name": .string(name), "type": type]))]])
        }
        for name in ["forward_profile", "input_profile"] {
            out.append([
                "add": ["map": .object(object("inet", ["name": .string(name), "type": "ipv4_addr", "map": "verdict"]))]
            ])
        }
        out.append([
            "add": [
                "set": .object(
                    object(
                        "inet",
                        [
                            "name": "custom", "type": ["ipv4_addr", "inet_proto", "ipv4_addr", "inet_service"],
                            "flags": ["interval"],
                        ]))
            ]
        ])
        out.append(["add": ["set": .object(object("bridge", ["name": "ports", "type": "ifname"]))]])
        out.append(["add": ["set": .object(object("bridge", ["name": "bindings", "type": ["ifname", "ipv4_addr"]]))]])

        let inetChains: [(String, [String: JSONValue]?)] = [
            ("forward", ["type": "filter", "hook": "forward", "prio": -10, "policy": "accept"]),
            ("input", ["type": "filter", "hook": "input", "prio": -10, "policy": "accept"]),
            ("postrouting", ["type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"]),
            ("from_workload", nil), ("to_workload", nil), ("to_host", nil), ("fwd_nat_filtered", nil),
            ("fwd_custom", nil), ("in_nat_filtered", nil), ("in_custom", nil),
        ]
        let bridgeChains: [(String, [String: JSONValue]?)] = [
            ("prerouting", ["type": "filter", "hook": "prerouting", "prio": -200, "policy": "accept"]),
            ("forward", ["type": "filter", "hook": "forward", "prio": -200, "policy": "accept"]),
        ]
        for (family, chains) in [("inet", inetChains), ("bridge", bridgeChains)] {
            for (name, base) in chains {
                var body = object(family, ["name": .string(name)])
                for (key, value) in base ?? [:] { body[key] = value }
                out.append(["add": ["chain": .object(body)]])
                out.append(["flush": ["chain": .object(object(family, ["name": .string(name)]))]])
            }
        }
        for (family, chain, expressions) in rules() {
            out.append([
                "add": ["rule": .object(object(family, ["chain": .string(chain), "expr": .array(expressions)]))]
            ])
        }
        return out
    }

    /// Removes both tables.
    static func removeTables() -> [JSONValue] {
        ["inet", "bridge"].flatMap { family -> [JSONValue] in
            let me: JSONValue = ["family": .string(family), "name": .string(table)]
            return [["add": ["table": me]], ["delete": ["table": me]]]
        }
    }

    /// Adds (or removes) a bridge's elements.
    static func bridge(_ name: String, add: Bool) -> [JSONValue] {
        elements("inet", "bridges", [.string(name)], add: add)
    }

    /// Adds (or removes) one plumbed workload's elements: its address, its port, the binding
    /// between them, its profile's map entries and its custom allow list.
    static func workload(
        address: String, port: String, profile: SandboxProfile, allow: [SandboxAllowEntry], add: Bool
    ) -> [JSONValue] {
        var out = elements("inet", "workloads", [.string(address)], add: add)
        out += elements("bridge", "ports", [.string(port)], add: add)
        out += elements("bridge", "bindings", [E.concat([.string(port), .string(address)])], add: add)
        let forward: JSONValue? =
            switch profile {
            case .natFiltered: E.jump("fwd_nat_filtered")
            case .custom: E.jump("fwd_custom")
            case .none, .hostLoopback, .isolated: nil
            }
        let input: JSONValue? =
            switch profile {
            case .natFiltered: E.jump("in_nat_filtered")
            case .custom: E.jump("in_custom")
            case .hostLoopback: E.accept
            case .none, .isolated: nil
            }
        if let forward { out += elements("inet", "forward_profile", [[.string(address), forward]], add: add) }
        if let input { out += elements("inet", "input_profile", [[.string(address), input]], add: add) }
        if profile == .custom, !allow.isEmpty {
            let values = allow.map { entry -> JSONValue in
                let ports: JSONValue =
                    entry.ports.count == 1
                    ? .number(Double(entry.ports.lowerBound))
                    : ["range": [.number(Double(entry.ports.lowerBound)), .number(Double(entry.ports.upperBound))]]
                return E.concat([.string(address), .string(entry.protocolName), E.prefix(entry.destination), ports])
            }
            out += elements("inet", "custom", values, add: add)
        }
        return out
    }

    /// `add element` — or, to remove, `add` then `delete` in the same transaction, so a removal
    /// succeeds even when someone already deleted the element by hand.
    private static func elements(_ family: String, _ set: String, _ values: [JSONValue], add: Bool) -> [JSONValue] {
        let body: JSONValue = .object(object(family, ["name": .string(set), "elem": .array(values)]))
        return add ? [["add": ["element": body]]] : [["add": ["element": body]], ["delete": ["element": body]]]
    }

    private static func object(_ family: String, _ members: [String: JSONValue]) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["family": .string(family), "table": .string(table)]
        for (key, value) in members { body[key] = value }
        return body
    }

    private static func rules() -> [(String, String, [JSONValue])] {
        let fromBridge = E.match(E.meta("iifname"), E.reference("bridges"))
        let toBridge = E.match(E.meta("oifname"), E.reference("bridges"))
        let fromWorkload = E.match(E.payload("ip", "saddr"), E.reference("workloads"))
        let toWorkload = E.match(E.payload("ip", "daddr"), E.reference("workloads"))
        let loggedDrop = [E.counter, E.log(dropPrefix), E.drop]
        let logged = [E.counter, E.log(connectionPrefix), E.accept]
        let dns = [
            [E.match(E.payload("udp", "dport"), 53), E.accept], [E.match(E.payload("tcp", "dport"), 53), E.accept],
            [E.match(E.payload("icmp", "type"), "echo-request"), E.accept],
        ]
        let custom = E.match(
            E.concat([E.payload("ip", "saddr"), E.meta("l4proto"), E.payload("ip", "daddr"), E.payload("th", "dport")]),
            E.reference("custom"))
        let port = E.meta("iifname")
        var out: [(String, String, [JSONValue])] = [
            ("inet", "forward", [fromBridge, fromWorkload, E.jump("from_workload")]),
            ("inet", "forward", [toBridge, toWorkload, E.jump("to_workload")]),
            ("inet", "forward", [fromBridge] + loggedDrop),
            ("inet", "forward", [toBridge] + loggedDrop),
            ("inet", "from_workload", [E.established, E.accept]),
            ("inet", "from_workload", [toBridge, E.counter, E.log("aios-sbx-w2w: "), E.drop]),
            ("inet", "from_workload", [E.vmap(E.payload("ip", "saddr"), "forward_profile")]),
            ("inet", "from_workload", loggedDrop),
            ("inet", "to_workload", [E.established, E.accept]),
            ("inet", "to_workload", [E.counter, E.log("aios-sbx-in-drop: "), E.drop]),
            (
                "inet", "fwd_nat_filtered",
                [
                    E.match(
                        E.payload("tcp", "dport"),
                        E.set(SandboxProfile.natFilteredTCPPorts.map { .number(Double($0)) }))
                ] + logged
            ),
            ("inet", "fwd_nat_filtered", [E.match(E.payload("udp", "dport"), 53)] + logged),
            ("inet", "fwd_custom", [custom] + logged),
            ("inet", "input", [fromBridge, fromWorkload, E.jump("to_host")]),
            ("inet", "input", [fromBridge] + loggedDrop),
            ("inet", "to_host", [E.established, E.accept]),
            ("inet", "to_host", [E.vmap(E.payload("ip", "saddr"), "input_profile")]),
            ("inet", "to_host", loggedDrop),
            (
                "inet", "postrouting",
                [fromWorkload, E.match(E.meta("oifname"), E.reference("bridges"), op: "!="), E.masquerade]
            ),
            (
                "bridge", "prerouting",
                [E.match(port, E.reference("ports")), E.match(E.payload("ether", "type"), "ip6"), E.counter, E.drop]
            ),
            (
                "bridge", "prerouting",
                [
                    E.match(port, E.reference("ports")),
                    E.match(E.concat([port, E.payload("ip", "saddr")]), E.reference("bindings"), op: "!="),
                    E.counter, E.log("aios-sbx-spoof: "), E.drop,
                ]
            ),
            (
                "bridge", "prerouting",
                [
                    E.match(port, E.reference("ports")),
                    E.match(E.concat([port, E.payload("arp", "saddr ip")]), E.reference("bindings"), op: "!="),
                    E.counter, E.drop,
                ]
            ),
            (
                "bridge", "forward",
                [
                    E.match(port, E.reference("ports")), E.match(E.meta("oifname"), E.reference("ports")), E.counter,
                    E.log("aios-sbx-w2w: "), E.drop,
                ]
            ),
        ]
        out += dns.map { ("inet", "in_nat_filtered", $0) }
        out += dns.map { ("inet", "in_custom", $0) }
        out.append(("inet", "in_custom", [custom, E.accept]))
        return out
    }
}
