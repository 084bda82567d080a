public import AiosCore
import AiosLinux
import AiosStore

/// What a set element matches, as numbers: the same whether it comes from a rule's `Element` or
/// from the kernel's own bytes (an element dump over nfnetlink).
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

    /// The key of a kernel element of `set`, or nil when its bytes are not laid out as the set's
    /// type (the kernel fixes a set's key length, so this means another type).
    ///
    /// Layout, in 32-bit words: `[ifname 16]` for `_if` sets, then the source address (4 or 16
    /// bytes) unless the set is `_dst`, the destination unless it is `_src`, the protocol (1 byte
    /// + padding) and the port (2 bytes big-endian + padding). An interval set's element has a
    /// closing key of the same layout; an exact one is its own end.
    init?(kernel element: NftablesSetElement, set: Int) {
        let entry = EntrySets.all[set]
        let width = entry.family == "v4" ? 4 : 16
        let any = AddressRange.any(entry.family)
        let anyRange = any.low...any.high
        var fields: [Int] = []
        if entry.shape == .boxOnInterface { fields.append(16) }
        if entry.shape != .destination { fields.append(width) }
        if entry.shape != .source { fields.append(width) }
        fields += [4, 4]
        let length = fields.reduce(0, +)
        let low = element.key
        let high = element.keyEnd ?? element.key
        guard low.count == length, high.count == length else { return nil }
        var offset = 0
        func take(_ count: Int) -> (low: ArraySlice<UInt8>, high: ArraySlice<UInt8>) {
            defer { offset += count }
            return (low[offset..<(offset + count)], high[offset..<(offset + count)])
        }
        self.set = set
        interface = nil
        if entry.shape == .boxOnInterface {
            // One name (the same bytes both ends), or a wildcard `eth*` (`eth` padded with 0x00 to
            // `eth` padded with 0xff).
            let bytes = take(16)
            let name = bytes.low.prefix { $0 != 0 }
            let rest = bytes.high.dropFirst(name.count)
            guard bytes.high.prefix(name.count).elementsEqual(name) else { return nil }
            if rest.allSatisfy({ $0 == 0 }) {
                interface = String(decoding: name, as: UTF8.self)
            } else if rest.allSatisfy({ $0 == 0xff }) {
                interface = String(decoding: name, as: UTF8.self) + "*"
            } else {
                return nil
            }
        }
        func bounded<Bound: Comparable>(_ low: Bound, _ high: Bound) -> ClosedRange<Bound>? {
            low <= high ? low...high : nil
        }
        var source: ClosedRange<UInt128>? = anyRange
        var destination: ClosedRange<UInt128>? = anyRange
        if entry.shape != .destination {
            let bytes = take(width)
            source = bounded(Self.number(bytes.low), Self.number(bytes.high))
        }
        if entry.shape != .source {
            let bytes = take(width)
            destination = bounded(Self.number(bytes.low), Self.number(bytes.high))
        }
        let protocolBytes = take(4)
        let portBytes = take(4)
        // An end before its start is no element aios-net writes.
        guard let source, let destination,
            let protocols = bounded(Int(protocolBytes.low.first!), Int(protocolBytes.high.first!)),
            let ports = bounded(Self.port(portBytes.low), Self.port(portBytes.high))
        else { return nil }
        (self.source, self.destination, self.protocols, self.ports) = (source, destination, protocols, ports)
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> UInt128 {
        bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    }

    private static func port(_ bytes: ArraySlice<UInt8>) -> Int {
        Int(bytes[bytes.startIndex]) << 8 | Int(bytes[bytes.startIndex + 1])
    }

    /// The element as nft's JSON writes it: what the report shows and a deletion names.
    var value: JSONValue {
        let entry = EntrySets.all[set]
        let isIPv6 = entry.family == "v6"
        func address(_ range: ClosedRange<UInt128>) -> JSONValue {
            let low = Self.text(range.lowerBound, isIPv6: isIPv6)
            if range.lowerBound == range.upperBound { return .string(low) }
            let span = range.upperBound - range.lowerBound
            let hostBits = span == .max ? 128 : (span &+ 1).trailingZeroBitCount
            if span == .max || (span &+ 1).nonzeroBitCount == 1 && range.lowerBound % (span &+ 1) == 0 {
                return ["prefix": ["addr": .string(low), "len": .number(Double((isIPv6 ? 128 : 32) - hostBits))]]
            }
            return ["range": [.string(low), .string(Self.text(range.upperBound, isIPv6: isIPv6))]]
        }
        func numbers(_ range: ClosedRange<Int>) -> JSONValue {
            range.lowerBound == range.upperBound
                ? .number(Double(range.lowerBound))
                : ["range": [.number(Double(range.lowerBound)), .number(Double(range.upperBound))]]
        }
        var parts: [JSONValue] = []
        if let interface { parts.append(.string(interface)) }
        if entry.shape != .destination { parts.append(address(source)) }
        if entry.shape != .source { parts.append(address(destination)) }
        parts += [numbers(protocols), numbers(ports)]
        return ["concat": .array(parts)]
    }

    private static func text(_ value: UInt128, isIPv6: Bool) -> String {
        let count = isIPv6 ? 16 : 4
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
        return IPAddressText.format(bytes) ?? "?"
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
    /// Kernel elements no stored rule writes: what they match, and their bytes (a repair deletes
    /// exactly what the kernel holds).
    var unknown: [(key: ElementKey, kernel: NftablesSetElement)] = []
    var rules = 0
    var elements = 0
    var inKernel = 0

    /// Rules expiring within this many milliseconds are left out both ways: the kernel may have
    /// just dropped their elements, or be about to.
    static let margin: Int64 = 1000

    /// Compares the rules in force (`snapshot`) with the kernel's elements of each entry set
    /// (`kernel[i]`: those of `EntrySets.all[i]`) at `now`.
    init(snapshot: ActiveRules.Snapshot, kernel: [[NftablesSetElement]], now: Int64) {
        var listed: [ElementKey: NftablesSetElement] = [:]
        for (position, elements) in kernel.enumerated() {
            inKernel += elements.count
            // The kernel fixes a set's key layout: an element that does not decode is not ours to judge.
            for element in elements {
                if let key = ElementKey(kernel: element, set: position) { listed[key] = element }
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
        unknown = listed.filter { !known.contains($0.key) }.map { (key: $0.key, kernel: $0.value) }
            .sorted { $0.key.value.jsonText < $1.key.value.jsonText }
    }

    /// The rules in force against the kernel's entry sets now, read under the entry lock (no
    /// change is seen half done).
    static func locked(_ active: ActiveRules, _ table: FirewallTable, now: Int64) async throws -> EntryComparison {
        try await active.changes.withLock { try await unlocked(active, table, now: now) }
    }

    /// As `locked`, for a caller that holds `active.changes` already.
    static func unlocked(_ active: ActiveRules, _ table: FirewallTable, now: Int64) async throws -> EntryComparison {
        EntryComparison(snapshot: try await active.snapshot(), kernel: try table.entryElements(), now: now)
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
                EntryDrift.Unknown(set: EntrySets.all[$0.key.set].name, element: $0.key.value)
            })
    }

    /// One transaction that makes the kernel match the store: the unknown elements deleted (by
    /// the bytes the kernel reported), the missing ones added with their remaining lifetime
    /// (rounded down, so nothing is extended). Elements already there are not touched, so no
    /// timer is reset.
    func repairTransaction(table: String, now: Int64) -> NftablesElementTransaction {
        var transaction = NftablesElementTransaction(family: .inet, table: table)
        var deletions: [Int: NftablesElementList] = [:]
        for item in unknown {
            // A key that decoded has its set's layout, which fits an NftablesKey.
            guard let key = NftablesKey(bytes: item.kernel.key) else { continue }
            deletions[item.key.set, default: NftablesElementList()]
                .append(key: key, keyEnd: item.kernel.keyEnd.flatMap(NftablesKey.init(bytes:)))
        }
        for (set, list) in deletions.sorted(by: { $0.key < $1.key }) {
            transaction.delete(list, from: EntrySets.all[set].name)
        }
        var lists = ElementLists(now: now, roundDown: true)
        for (record, element) in missing { lists.add([element], expiresMs: record.expiresMs) }
        lists.add(to: &transaction)
        return transaction
    }
}
