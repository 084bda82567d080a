import AiosCore

/// Building blocks of libnftables JSON rules (`man 5 libnftables-json`), so rule builders read
/// like the nft syntax they stand for.
enum NftExpression {
    /// `left OP right` (`==`, `!=`, `in`).
    static func match(_ left: JSONValue, _ right: JSONValue, op: String = "==") -> JSONValue {
        ["match": ["op": .string(op), "left": left, "right": right]]
    }

    /// `ip saddr`, `tcp dport`, `th dport`, `arp saddr ip`, …
    static func payload(_ protocolName: String, _ field: String) -> JSONValue {
        ["payload": ["protocol": .string(protocolName), "field": .string(field)]]
    }

    /// `meta iifname`, `meta l4proto`, …
    static func meta(_ key: String) -> JSONValue { ["meta": ["key": .string(key)]] }

    /// `a . b . c`.
    static func concat(_ parts: [JSONValue]) -> JSONValue { ["concat": .array(parts)] }

    /// `{ a, b }` on the right of a match.
    static func set(_ values: [JSONValue]) -> JSONValue { ["set": .array(values)] }

    /// `@name`.
    static func reference(_ name: String) -> JSONValue { .string("@\(name)") }

    /// `ct state established,related`.
    static let established = match(["ct": ["key": "state"]], ["established", "related"], op: "in")
    /// `ct state new`.
    static let new = match(["ct": ["key": "state"]], "new", op: "in")

    static let accept: JSONValue = ["accept": nil]
    static let drop: JSONValue = ["drop": nil]
    static let counter: JSONValue = ["counter": nil]
    static let masquerade: JSONValue = ["masquerade": nil]

    /// `log prefix "…"`.
    static func log(_ prefix: String) -> JSONValue { ["log": ["prefix": .string(prefix)]] }

    /// `jump chain`.
    static func jump(_ chain: String) -> JSONValue { ["jump": ["target": .string(chain)]] }

    /// `KEY vmap @map`.
    static func vmap(_ key: JSONValue, _ map: String) -> JSONValue { ["vmap": ["key": key, "data": reference(map)]] }

    /// `addr/len` for a CIDR in text form (`10.0.0.0/8`; a bare address is a host prefix).
    static func prefix(_ cidr: String) -> JSONValue {
        let parts = cidr.split(separator: "/")
        let host = parts[0].contains(":") ? 128 : 32
        return [
            "prefix": [
                "addr": .string(String(parts[0])),
                "len": .number(Double(parts.count > 1 ? Int(parts[1]) ?? host : host)),
            ]
        ]
    }
}
