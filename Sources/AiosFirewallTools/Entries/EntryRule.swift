import AiosCore
import AiosLinux
import Foundation

/// A normalised allow/deny rule: what is stored, compared and turned into set elements. Two equal
/// rules are the same rule (comment and expiry are not part of it): the rules in force are found by it.
struct EntryRule: Codable, Sendable, Hashable {
    var chain: String
    var verdict: String
    var protocolName: String
    /// nil = any port.
    var ports: [PortRange]?
    /// `any` or a normalised CIDR.
    var source: String
    var destination: String
    var interface: String?

    /// The rule as its `Codable` form encodes it (sorted keys, compact), written directly as text
    /// (batches hold 100k rules, so as bytes, not by string appends): what the store keeps.
    var specText: String {
        var text: [UInt8] = []
        text.reserveCapacity(160)
        writeSpec(into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `specText`, appended to `text`.
    func writeSpec(into text: inout [UInt8]) {
        text.append(contentsOf: #"{"chain":"#.utf8)
        Self.quote(chain, into: &text)
        text.append(contentsOf: #","destination":"#.utf8)
        Self.quote(destination, into: &text)
        if let interface {
            text.append(contentsOf: #","interface":"#.utf8)
            Self.quote(interface, into: &text)
        }
        if let ports {
            text.append(contentsOf: #","ports":["#.utf8)
            for (index, range) in ports.enumerated() {
                text.append(contentsOf: (index == 0 ? #"{"high":"# : #",{"high":"#).utf8)
                text.appendDecimal(range.high)
                text.append(contentsOf: #","low":"#.utf8)
                text.appendDecimal(range.low)
                text.append(UInt8(ascii: "}"))
            }
            text.append(UInt8(ascii: "]"))
        }
        text.append(contentsOf: #","protocolName":"#.utf8)
        Self.quote(protocolName, into: &text)
        text.append(contentsOf: #","source":"#.utf8)
        Self.quote(source, into: &text)
        text.append(contentsOf: #","verdict":"#.utf8)
        Self.quote(verdict, into: &text)
        text.append(UInt8(ascii: "}"))
    }

    private static func quote(_ value: String, into text: inout [UInt8]) {
        let plain = value.utf8.allSatisfy {
            $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
        }
        guard plain else {
            text.append(contentsOf: JSONValue.string(value).jsonText.utf8)
            return
        }
        text.append(UInt8(ascii: "\""))
        text.append(contentsOf: value.utf8)
        text.append(UInt8(ascii: "\""))
    }

    /// Normalises `input` for `verdict`, naming the offending field on error.
    static func from(_ input: RuleInput, verdict: String, field: @autoclosure () -> String) throws -> EntryRule {
        try planned(input, verdict: verdict, field: field()).rule
    }

    /// `from(_:verdict:field:)` and the rule's elements, each address parsed once (a batch plans
    /// 100k rules).
    static func planned(_ input: RuleInput, verdict: String, field: @autoclosure () -> String) throws -> (
        rule: EntryRule, elements: [Element]
    ) {
        let protocolName = input.protocolName ?? "tcp"
        var ports: [PortRange]?
        if let port = input.port {
            guard protocolName == "tcp" || protocolName == "udp" else {
                throw AiosError(
                    .invalidInput, "a port applies to tcp and udp only (protocol is \(protocolName))",
                    location: InputLocation(field: "\(field()).port"))
            }
            ports = try port.ranges(field: "\(field()).port")
        }
        if let interface = input.interface, let problem = Self.interfaceProblem(interface) {
            throw AiosError(.invalidInput, problem, location: InputLocation(field: "\(field()).interface"))
        }
        let source = try address(input.source, field: "\(field()).source")
        let destination = try address(input.destination, field: "\(field()).destination")
        let rule = EntryRule(
            chain: input.chain ?? "input", verdict: verdict, protocolName: protocolName, ports: ports,
            source: source?.cidrText ?? "any", destination: destination?.cidrText ?? "any", interface: input.interface)
        let families = Self.families(source, destination)
        if families.isEmpty {
            throw AiosError(
                .invalidInput,
                "source \(rule.source) and destination \(rule.destination) are of different address families",
                location: InputLocation(field: "\(field()).destination"))
        }
        return (rule, rule.elements(families: families, source: source, destination: destination))
    }

    /// Why `interface` cannot be a rule's interface (nil when it can): a kernel name, or a prefix
    /// ending in `*` (`eth*`, every name starting `eth`) as nft writes wildcards. A bare `*` would
    /// encode as an empty prefix, which libnftables cannot list back (it asserts, taking the
    /// process with it), and a `*` inside a name matches nothing nft can express.
    static func interfaceProblem(_ interface: String) -> String? {
        guard InterfaceName.isValid(interface) else {
            return
                "\"\(interface)\" is not an interface name (1-\(InterfaceName.maxLength) characters, no /, : or spaces)"
        }
        guard let star = interface.firstIndex(of: "*") else { return nil }
        if interface == "*" {
            return "\"*\" would match every interface: leave interface out for any, or give a prefix such as eth*"
        }
        guard star == interface.index(before: interface.endIndex) else {
            return "\"\(interface)\" has a * that does not end it: a wildcard is a prefix and one * (eth*)"
        }
        return nil
    }

    /// Why a stored rule cannot go to the kernel (nil when it can): what a rule of an older
    /// version, or one written into the database by hand, would take the daemon down with.
    var storedProblem: String? {
        if let interface, let problem = Self.interfaceProblem(interface) { return problem }
        for text in [source, destination] where text != "any" && AddressRange(cidrText: text) == nil {
            return "\"\(text)\" is not an address or CIDR"
        }
        if let ports, ports.contains(where: { $0.low < 1 || $0.high > 65535 || $0.low > $0.high }) {
            return "a port range is outside 1-65535"
        }
        if Set(ports ?? []).count != (ports ?? []).count { return "a port range is given twice" }
        return nil
    }

    /// The address range of `text`, nil for `any`.
    private static func address(_ text: String?, field: @autoclosure () -> String) throws -> AddressRange? {
        guard let text, text != "any" else { return nil }
        guard let range = AddressRange(cidrText: text) else {
            throw AiosError(
                .invalidInput, "\"\(text)\" is not an IPv4/IPv6 address or CIDR (e.g. 10.0.0.0/8, fd00::/8) or any",
                location: InputLocation(field: field()))
        }
        return range
    }

    /// The address families this rule covers (none when source and destination disagree).
    var families: [String] {
        switch (Self.family(source), Self.family(destination)) {
        case (nil, nil): Self.bothFamilies
        case (let one?, nil), (nil, let one?): one
        case (let one?, let other?): one == other ? one : []
        }
    }

    /// `families`, from parsed addresses (nil: any).
    private static func families(_ source: AddressRange?, _ destination: AddressRange?) -> [String] {
        switch (source.map(\.isIPv6), destination.map(\.isIPv6)) {
        case (nil, nil): bothFamilies
        case (let one?, nil), (nil, let one?): one ? v6Only : v4Only
        case (let one?, let other?): one == other ? (one ? v6Only : v4Only) : []
        }
    }

    // Shared arrays: a batch asks `families` of 100k rules.
    private static let bothFamilies = ["v4", "v6"]
    private static let v4Only = ["v4"]
    private static let v6Only = ["v6"]
    private static let anyPort = [PortRange(low: 0, high: 65535)]

    /// The one family `address` belongs to, or nil for `any`.
    private static func family(_ address: String) -> [String]? {
        address == "any" ? nil : address.utf8.contains(UInt8(ascii: ":")) ? v6Only : v4Only
    }

    /// One line for people: `allow input tcp 22 from 10.0.0.0/8 to any on eth0`.
    var summary: String { summary(comment: nil) }

    /// `summary`, with ` (comment)` after it when there is one; written as bytes (a batch makes
    /// 100k of them).
    func summary(comment: String?) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(96)
        writeSummary(comment: comment, into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `summary(comment:)`, appended to `text`.
    func writeSummary(comment: String?, into text: inout [UInt8]) {
        text.append(contentsOf: verdict.utf8)
        text.append(UInt8(ascii: " "))
        text.append(contentsOf: chain.utf8)
        text.append(UInt8(ascii: " "))
        text.append(contentsOf: protocolName.utf8)
        if let ports {
            for (index, range) in ports.enumerated() {
                text.append(UInt8(ascii: index == 0 ? " " : ","))
                text.appendDecimal(range.low)
                if range.high != range.low {
                    text.append(UInt8(ascii: "-"))
                    text.appendDecimal(range.high)
                }
            }
        }
        text.append(contentsOf: " from ".utf8)
        text.append(contentsOf: source.utf8)
        text.append(contentsOf: " to ".utf8)
        text.append(contentsOf: destination.utf8)
        if let interface {
            text.append(contentsOf: " on ".utf8)
            text.append(contentsOf: interface.utf8)
        }
        if let comment {
            text.append(contentsOf: " (".utf8)
            text.append(contentsOf: comment.utf8)
            text.append(UInt8(ascii: ")"))
        }
    }

    /// The set elements, one per family × port range: one host, one tcp/udp port and no
    /// interface go to the exact (hash) sets, anything else is a box in an interval set.
    var elements: [Element] {
        let source = source == "any" ? nil : AddressRange(cidrText: source)
        let destination = destination == "any" ? nil : AddressRange(cidrText: destination)
        return elements(families: Self.families(source, destination), source: source, destination: destination)
    }

    /// The elements for parsed addresses (nil: any).
    private func elements(families: [String], source: AddressRange?, destination: AddressRange?) -> [Element] {
        let ranges = ports ?? Self.anyPort
        var out: [Element] = []
        out.reserveCapacity(families.count * ranges.count)
        for family in families {
            let source = source ?? AddressRange.any(family)
            let destination = destination ?? AddressRange.any(family)
            let protocols = protocolRange(family)
            for range in ranges {
                let shape = shape(source: source, destination: destination, ports: range)
                out.append(
                    Element(
                        setIndex: EntrySets.index(chain: chain, verdict: verdict, family: family, shape: shape),
                        shape: shape, interface: interface, source: source, destination: destination,
                        protocols: protocols, ports: range))
            }
        }
        return out
    }

    private func shape(source: AddressRange, destination: AddressRange, ports: PortRange) -> EntryShape {
        if interface != nil { return .boxOnInterface }
        guard self.ports != nil, ports.low == ports.high, protocolName == "tcp" || protocolName == "udp" else {
            return .box
        }
        if source.isHost && destination.isAny { return .source }
        if destination.isHost && source.isAny { return .destination }
        return .box
    }

    private func protocolRange(_ family: String) -> PortRange {
        switch protocolName {
        case "tcp": PortRange(low: 6, high: 6)
        case "udp": PortRange(low: 17, high: 17)
        case "icmp": family == "v4" ? PortRange(low: 1, high: 1) : PortRange(low: 58, high: 58)
        default: PortRange(low: 0, high: 255)
        }
    }
}

extension EntryRule {
    /// Reads a stored rule (`specText`'s form, which is also its Codable form) straight from the
    /// tree: a restore or the rules-in-force cache reads 100k of them.
    init(spec: JSONValue) throws {
        let members = try spec.members(field: "spec")
        func text(_ name: String) throws -> String {
            guard let value = members[name] else {
                throw AiosError(
                    .invalidInput, "required field is missing", location: InputLocation(field: "spec.\(name)"))
            }
            return try value.string(field: "spec.\(name)")
        }
        chain = try text("chain")
        verdict = try text("verdict")
        protocolName = try text("protocolName")
        source = try text("source")
        destination = try text("destination")
        interface = try members["interface"].flatMap { $0 == .null ? nil : try $0.string(field: "spec.interface") }
        ports = try members["ports"].flatMap { list -> [PortRange]? in
            guard list != .null else { return nil }
            return try list.elements(field: "spec.ports").enumerated().map { index, item in
                let range = try item.members(field: "spec.ports[\(index)]")
                guard let low = range["low"]?.intValue, let high = range["high"]?.intValue else {
                    throw item.mismatch("a port range {low, high}", field: "spec.ports[\(index)]")
                }
                return PortRange(low: low, high: high)
            }
        }
    }

    /// Reads a stored rule from its spec text.
    init(specText: String) throws { try self.init(spec: try JSONValue(parsing: specText)) }
}

/// One set element: a box in (interface, source, destination, protocol, port) space.
struct Element: Sendable, Hashable {
    /// The set's position in `EntrySets.all`.
    var setIndex: Int
    var shape: EntryShape
    var interface: String?
    var source: AddressRange
    var destination: AddressRange
    var protocols: PortRange
    var ports: PortRange

    /// The set's name.
    var set: String { EntrySets.all[setIndex].name }

    /// An exact (hash set) element's identity: two rules writing the same one would share one
    /// kernel element (and its timer), so the second is refused. Nil for boxes, which the overlap
    /// check covers.
    var exactKey: ExactKey? {
        guard shape.isExact else { return nil }
        return ExactKey(
            set: setIndex, address: shape == .source ? source.low : destination.low, protocolNumber: protocols.low,
            port: ports.low)
    }
}

/// A CIDR as an inclusive numeric range (IPv4 in the low 32 bits).
struct AddressRange: Sendable, Hashable {
    var low: UInt128
    var high: UInt128
    var address: String
    var length: Int
    var isIPv6: Bool

    private static let anyV4 = AddressRange(value: 0, length: 0, isIPv6: false, address: "0.0.0.0")
    private static let anyV6 = AddressRange(value: 0, length: 0, isIPv6: true, address: "::")

    /// Every address of `family` (`v4` or `v6`).
    static func any(_ family: String) -> AddressRange { family == "v4" ? anyV4 : anyV6 }

    /// `text` (an address or CIDR, or `any`) in `family`; `text` must parse (a stored or
    /// validated address).
    init(_ text: String, family: String) {
        self = text == "any" ? Self.any(family) : AddressRange(cidrText: text)!
    }

    /// Parses an address or CIDR (`CIDR`'s grammar); a plain dotted quad, the common case, is read
    /// in one pass. Nil when it is neither.
    init?(cidrText text: String) {
        if let prefix = IPAddressText.ipv4Prefix(text.utf8) {
            let address = prefix.length == nil ? text : String(text.utf8.prefix(prefix.addressCount))!
            self.init(value: UInt128(prefix.value), length: prefix.length ?? 32, isIPv6: false, address: address)
            return
        }
        guard let cidr = CIDR(text) else { return nil }
        self.init(value: cidr.value, length: cidr.length, isIPv6: cidr.isIPv6, address: cidr.address)
    }

    private init(value: UInt128, length: Int, isIPv6: Bool, address: String) {
        let hostBits = (isIPv6 ? 128 : 32) - length
        let mask: UInt128 = hostBits >= 128 ? .max : (UInt128(1) << hostBits) - 1
        low = value & ~mask
        high = low | mask
        self.address = address
        self.length = length
        self.isIPv6 = isIPv6
    }

    /// The normalised CIDR text (`10.0.0.1/32`): what a rule keeps.
    var cidrText: String { address + "/" + String(length) }

    /// One address (`/32`, `/128`).
    var isHost: Bool { low == high }
    /// Every address of its family.
    var isAny: Bool { length == 0 }

    func contains(_ value: UInt128) -> Bool { low <= value && value <= high }
    func overlaps(_ other: AddressRange) -> Bool { low <= other.high && other.low <= high }
}

/// The identity of an element of an exact (hash) set.
struct ExactKey: Sendable, Hashable {
    var set: Int
    var address: UInt128
    var protocolNumber: Int
    var port: Int
}
