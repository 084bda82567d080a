import AiosCore
import Foundation

/// One allow/deny rule as a caller writes it (seed 001's field names plus destination, interface).
struct RuleInput: Decodable, Sendable {
    var chain: String?
    var protocolName: String?
    var port: PortSpec?
    var source: String?
    var destination: String?
    var interface: String?
    var comment: String?
    var expires: String?

    /// Reads one rule's fields from an object's members (other members, such as `entries`, are
    /// left to the caller; the schema has refused unknown ones).
    init(members: [String: JSONValue], field: @autoclosure () -> String) throws {
        for (name, value) in members {
            switch name {
            case "chain": chain = try value.string(field: "\(field()).chain")
            case "protocol": protocolName = try value.string(field: "\(field()).protocol")
            case "port": port = try PortSpec(tree: value, field: "\(field()).port")
            case "source": source = try value.string(field: "\(field()).source")
            case "destination": destination = try value.string(field: "\(field()).destination")
            case "interface": interface = try value.string(field: "\(field()).interface")
            case "comment":
                let text = try value.string(field: "\(field()).comment")
                // SQLite keeps a NUL, but text read back stops at it; a newline has no place in one line.
                if let problem = ConfigText.problem(text) {
                    throw AiosError(.invalidInput, problem, location: InputLocation(field: "\(field()).comment"))
                }
                comment = text
            case "expires": expires = try value.string(field: "\(field()).expires")
            default: break
            }
        }
    }

    init() {}

    /// Decodable through the same reading as `init(members:field:)`.
    init(from decoder: any Decoder) throws {
        try self.init(members: try JSONValue(from: decoder).members(field: "input"), field: "input")
    }

    var isEmpty: Bool {
        chain == nil && protocolName == nil && port == nil && source == nil && destination == nil && interface == nil
    }

    /// The JSON Schema properties of one rule.
    static let properties: [String: JSONSchema] = [
        "chain": .string("input (default), output or forward", values: ["input", "output", "forward"]),
        "protocol": .string("tcp (default), udp, icmp or any", values: ["tcp", "udp", "icmp", "any"]),
        "port": JSONSchema([
            "type": ["integer", "string", "array"],
            "description": "A port (22), a range (\"8000-8080\") or a list ([80, 443, \"9000-9010\"]); absent: any",
        ]),
        "source": .string("Source address or CIDR (v4 or v6), or any (default)", maxLength: 64),
        "destination": .string("Destination address or CIDR, or any (default)", maxLength: 64),
        "interface": .string(
            "Only traffic in on (input/forward) or out of (output) this interface", pattern: "^[^/\\s]{1,15}$"),
        "comment": .string("Why this rule exists", maxLength: 128),
        "expires": .string("A duration (\"2h\", \"30m\") or an RFC 3339 time; absent: permanent", maxLength: 40),
    ]
}

/// The rules of an allow/deny call: one rule's fields, or a batch's entries, read one at a time.
enum RuleItems: Sendable {
    case single(RuleInput)
    case entries([JSONValue])

    var count: Int {
        switch self {
        case .single: 1
        case .entries(let trees): trees.count
        }
    }

    /// The rule at `index`, read from its tree; an error names `field`.
    func rule(_ index: Int, field: @autoclosure () -> String) throws -> RuleInput {
        switch self {
        case .single(let rule): return rule
        case .entries(let trees):
            return try RuleInput(members: try trees[index].members(field: field()), field: field())
        }
    }
}

/// Ports: a number, `"a-b"`, or a list of either.
struct PortSpec: Decodable, Sendable {
    enum Item: Sendable {
        case number(Int)
        case text(String)
    }
    var items: [Item]

    /// Reads a port, a range text or a list of either from the tree.
    init(tree: JSONValue, field: @autoclosure () -> String) throws {
        func item(_ value: JSONValue, _ field: @autoclosure () -> String) throws -> Item {
            switch value {
            case .number(let number) where number.rounded() == number && abs(number) < 1e9: return .number(Int(number))
            case .string(let text): return .text(text)
            default: throw value.mismatch("a port number or range text", field: field())
            }
        }
        if case .array(let list) = tree {
            items = try list.enumerated().map { index, value in try item(value, "\(field())[\(index)]") }
        } else {
            items = [try item(tree, field())]
        }
    }

    /// Decodable (a sandbox's allow list) through the same reading as `init(tree:field:)`.
    init(from decoder: any Decoder) throws {
        try self.init(
            tree: JSONValue(from: decoder), field: DecodingProblem.fieldPath(decoder.codingPath, root: "input"))
    }

    /// The port ranges, validated.
    /// - Throws: `.invalidInput` naming `field` (and the list index).
    func ranges(field: @autoclosure () -> String) throws -> [PortRange] {
        guard !items.isEmpty else {
            throw AiosError(.invalidInput, "needs at least one port", location: InputLocation(field: field()))
        }
        let ranges = try items.enumerated().map { index, item in
            let (low, high): (Int?, Int?)
            switch item {
            case .number(let number): (low, high) = (number, number)
            case .text(let text):
                let parts = text.split(separator: "-", omittingEmptySubsequences: false).map {
                    Self.digits($0.trimmingCharacters(in: .whitespaces))
                }
                (low, high) =
                    parts.count == 1 ? (parts[0], parts[0]) : parts.count == 2 ? (parts[0], parts[1]) : (nil, nil)
            }
            guard let low, let high, (1...65535).contains(low), (1...65535).contains(high), low <= high else {
                let shown: String =
                    switch item {
                    case .number(let number): "\(number)"
                    case .text(let text): "\"\(text)\""
                    }
                throw AiosError(
                    .invalidInput, "\(shown) is not a port or port range (1-65535, e.g. 22 or \"8000-8080\")",
                    location: InputLocation(field: items.count > 1 ? "\(field())[\(index)]" : field()))
            }
            return PortRange(low: low, high: high)
        }
        return Self.merged(ranges)
    }

    /// The decimal number `text` spells with digits only (`"+80"` and `"0x50"` are none).
    private static func digits(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)
    }

    /// `ranges` with repeats and overlaps folded together, so a rule never writes one set
    /// element twice (the kernel keeps one, and the second deletion fails); a list with neither
    /// keeps its order, so rules stored before read the same.
    static func merged(_ ranges: [PortRange]) -> [PortRange] {
        let sorted = ranges.sorted { ($0.low, $0.high) < ($1.low, $1.high) }
        guard zip(sorted, sorted.dropFirst()).contains(where: { $1.low <= $0.high }) else { return ranges }
        var out: [PortRange] = []
        for range in sorted {
            if let last = out.last, range.low <= last.high {
                out[out.count - 1].high = max(last.high, range.high)
            } else {
                out.append(range)
            }
        }
        return out
    }
}

/// An inclusive port range.
struct PortRange: Codable, Sendable, Hashable {
    var low: Int
    var high: Int

    var text: String { low == high ? "\(low)" : "\(low)-\(high)" }
}
