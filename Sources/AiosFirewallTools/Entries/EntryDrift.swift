public import AiosCore
import AiosStore

#if canImport(Glibc)
    import Glibc
#endif

/// What a set element matches, as numbers: the same whether it comes from a rule's `Element` or
/// from the kernel's listing (`"10.0.0.1"`, `{"prefix": {"addr": "10.0.0.1", "len": 32}}` and
/// `{"range": ["10.0.0.1", "10.0.0.1"]}` are one key; so are `"tcp"` and `6`).
struct ElementKey: Hashable, Sendable {
    var set: Int
    var interface: String?
    var source: ClosedRange<UInt128>
    var destination: ClosedRange<UInt128>
    var protocols: ClosedRange<Int>
    var ports: ClosedRange<Int>

    init(_ element: Element) {
        set = element.setIndex
        interface = element.interface
        source = element.source.low...element.source.high
        destination = element.destination.low...element.destination.high
        protocols = element.protocols.low...element.protocols.high
        ports = element.ports.low...element.ports.high
    }

    /// The key of a listed element's value (`{"concat": [...]}`) in `set`, or nil when its shape
    /// is not the set's (not one aios-net writes).
    init?(listed value: JSONValue, set: Int) {
        let entry = EntrySets.all[set]
        guard let parts = value["concat"]?.arrayValue else { return nil }
        let any = AddressRange.any(entry.family)
        let anyRange = any.low...any.high
        self.set = set
        interface = nil
        switch entry.shape {
        case .source, .destination:
            guard parts.count == 3, let address = Self.addresses(parts[0]),
                let protocols = Self.numbers(parts[1], protocols: true), let ports = Self.numbers(parts[2])
            else { return nil }
            (source, destination) = entry.shape == .source ? (address, anyRange) : (anyRange, address)
            (self.protocols, self.ports) = (protocols, ports)
        case .box, .boxOnInterface:
            var rest = parts[...]
            if entry.shape == .boxOnInterface {
                guard let name = rest.first?.stringValue else { return nil }
                interface = name
                rest = rest.dropFirst()
            }
            let fields = Array(rest)
            guard fields.count == 4, let source = Self.addresses(fields[0]),
                let destination = Self.addresses(fields[1]), let protocols = Self.numbers(fields[2], protocols: true),
                let ports = Self.numbers(fields[3])
            else { return nil }
            (self.source, self.destination, self.protocols, self.ports) = (source, destination, protocols, ports)
        }
    }

    /// An address, prefix or range as listed.
    private static func addresses(_ value: JSONValue) -> ClosedRange<UInt128>? {
        if let text = value.stringValue {
            return AddressRange(cidrText: text).map { $0.low...$0.high }
        }
        if let prefix = value["prefix"], let address = prefix["addr"]?.stringValue, let length = prefix["len"]?.intValue
        {
            return AddressRange(cidrText: "\(address)/\(length)").map { $0.low...$0.high }
        }
        if let bounds = value["range"]?.arrayValue, bounds.count == 2, let low = bounds[0].stringValue,
            let high = bounds[1].stringValue, let first = AddressRange(cidrText: low),
            let last = AddressRange(cidrText: high), first.low <= last.high
        {
            return first.low...last.high
        }
        return nil
    }

    /// A port or protocol (a number, a name from /etc/protocols, or a range of either) as listed.
    private static func numbers(_ value: JSONValue, protocols: Bool = false) -> ClosedRange<Int>? {
        func one(_ value: JSONValue) -> Int? {
            if let number = value.intValue { return number }
            guard protocols, let name = value.stringValue else { return nil }
            return protocolNumber(name)
        }
        if let bounds = value["range"]?.arrayValue, bounds.count == 2, let low = one(bounds[0]),
            let high = one(bounds[1]), low <= high
        {
            return low...high
        }
        return one(value).map { $0...$0 }
    }

    /// The number of a protocol name as nft prints it (from /etc/protocols when it has one).
    static func protocolNumber(_ name: String) -> Int? {
        switch name {
        case "tcp": return 6
        case "udp": return 17
        case "icmp": return 1
        case "ipv6-icmp", "icmpv6": return 58
        default:
            guard let entry = getprotobyname(name) else { return nil }
            return Int(entry.pointee.p_proto)
        }
    }
}

/// How the kernel's entry sets differ from the rules in force: elements a stored rule should have
/// and the kernel lacks (someone deleted them, or a crash left the rows without their kernel
/// transaction), and elements the kernel holds that no stored rule writes (added by hand, or left
/// by a crash before the rows committed).
public struct EntryDrift: Codable, Sendable, Equatable {
    /// Rules in force (unexpired) whose elements were checked.
    public var rules: Int
    /// Their elements.
    public var elements: Int
    /// Elements in the kernel's entry sets.
    public var inKernel: Int
    /// Elements a rule in force should have and the kernel lacks: how many, and the first ones.
    public var missingCount: Int
    public var missing: [Missing]
    /// Elements in the kernel no stored rule writes: how many, and the first ones.
    public var unknownCount: Int
    public var unknown: [Unknown]

    /// A rule's element the kernel lacks.
    public struct Missing: Codable, Sendable, Equatable {
        public var rule: String
        public var summary: String
        public var set: String
    }

    /// A kernel element no rule writes, as listed.
    public struct Unknown: Codable, Sendable, Equatable {
        public var set: String
        public var element: JSONValue
    }

    /// True when kernel and store agree.
    public var isClean: Bool { missingCount == 0 && unknownCount == 0 }

    /// How many of each list are named (the counts cover the rest).
    static let named = 20

    enum CodingKeys: String, CodingKey {
        case rules, elements, missing, unknown
        case inKernel = "in_kernel", missingCount = "missing_count", unknownCount = "unknown_count"
    }
}

/// The comparison behind `EntryDrift`, with what a repair needs.
struct EntryComparison: Sendable {
    /// Elements to add back, with their rule's record.
    var missing: [(record: FirewallRuleRecord, element: Element)] = []
    /// Listed values to delete, per set position.
    var unknown: [(set: Int, value: JSONValue)] = []
    var rules = 0
    var elements = 0
    var inKernel = 0

    /// Rules expiring within this many milliseconds are left out both ways: the kernel may have
    /// just dropped their elements, or be about to.
    static let margin: Int64 = 1000

    /// Compares the rules in force (`snapshot`) with the table's listing (`objects`) at `now`.
    init(snapshot: ActiveRules.Snapshot, objects: [JSONValue], now: Int64) {
        let positions = Dictionary(uniqueKeysWithValues: EntrySets.all.enumerated().map { ($1.name, $0) })
        var listed: [ElementKey: (set: Int, value: JSONValue)] = [:]
        var unreadable: [(set: Int, value: JSONValue)] = []
        for object in objects {
            guard let set = object["set"], let name = set["name"]?.stringValue, let position = positions[name] else {
                continue
            }
            for item in set["elem"]?.arrayValue ?? [] {
                let value = item["elem"]?["val"] ?? item
                inKernel += 1
                if let key = ElementKey(listed: value, set: position) {
                    listed[key] = (position, value)
                } else {
                    unreadable.append((position, value))
                }
            }
        }
        var known: Set<ElementKey> = []
        for (id, rule) in snapshot.rules {
            guard let record = snapshot.byID[id] else { continue }
            // Every active rule's elements are known (one expiring now may still be listed); only
            // those of rules well within their lifetime must be there.
            let live = record.expiresMs.map { $0 > now + Self.margin } ?? true
            if live { rules += 1 }
            for element in rule.elements {
                let key = ElementKey(element)
                known.insert(key)
                guard live else { continue }
                elements += 1
                if listed[key] == nil { missing.append((record, element)) }
            }
        }
        // In a stable order (the report names the first ones).
        missing.sort { ($0.record.id, $0.element.setIndex) < ($1.record.id, $1.element.setIndex) }
        unknown =
            listed.filter { !known.contains($0.key) }.map(\.value).sorted { $0.value.jsonText < $1.value.jsonText }
            + unreadable
    }

    /// The report: counts, and the first of each list.
    var drift: EntryDrift {
        EntryDrift(
            rules: rules, elements: elements, inKernel: inKernel, missingCount: missing.count,
            missing: missing.prefix(EntryDrift.named).map {
                EntryDrift.Missing(rule: $0.record.id, summary: $0.record.summary, set: $0.element.set)
            },
            unknownCount: unknown.count,
            unknown: unknown.prefix(EntryDrift.named).map {
                EntryDrift.Unknown(set: EntrySets.all[$0.set].name, element: $0.value)
            })
    }

    /// One transaction's commands that make the kernel match the store: the missing elements
    /// added with their remaining lifetime (rounded down, so nothing is extended), the unknown
    /// ones deleted. Elements already there are not touched, so no timer is reset.
    func repairCommands(table: String, now: Int64) -> (json: [JSONValue], serialised: [String]) {
        var document = ElementDocument(now: now, roundDown: true)
        for (record, element) in missing { document.add([element], expiresMs: record.expiresMs) }
        var bySet: [Int: [JSONValue]] = [:]
        for (set, value) in unknown { bySet[set, default: []].append(value) }
        let deletions: [JSONValue] = bySet.keys.sorted().map { set in
            [
                "delete": [
                    "element": [
                        "family": "inet", "table": .string(table), "name": .string(EntrySets.all[set].name),
                        "elem": .array(bySet[set] ?? []),
                    ]
                ]
            ]
        }
        return (deletions, document.commands(table: table))
    }
}
