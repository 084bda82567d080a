public import AiosCore
import AiosLinux
public import AiosStore

/// Input of `dns.records_set`.
public struct RecordsSetInput: Decodable, Sendable {
    public var name: String?
    public var address: String?
    public var addresses: [String]?
    public var ttl: Int?
    /// Several records at once.
    public var records: [RecordInput]?

    /// One record.
    public struct RecordInput: Decodable, Sendable {
        public var name: String
        public var address: String?
        public var addresses: [String]?
        public var ttl: Int?
    }
}

/// Output of the record tools.
public struct RecordsOutput: Codable, Sendable {
    public var records: [DNSLocalRecord]
    public var changed: [String]
    public var hostsFile: String?

    enum CodingKeys: String, CodingKey {
        case records, changed
        case hostsFile = "hosts_file"
    }
}

/// `dns.records_set`: host name → address records served by the resolver (and written to the
/// managed hosts-file section when one is configured). Setting a name replaces its addresses.
public struct RecordsSetTool: Tool {
    public typealias Input = RecordsSetInput
    public typealias Output = RecordsOutput

    static let recordProperties: [String: JSONSchema] = [
        "name": .string("Host name (nas.lan, printer)", minLength: 1, maxLength: 253),
        "address": .string("IPv4 or IPv6 address", maxLength: 64),
        "addresses": .array(of: .string("IPv4 or IPv6 address", maxLength: 64), "Several addresses", minItems: 1),
        "ttl": .integer("TTL in seconds (default 300)", minimum: 0, maximum: 604800),
    ]

    public static let descriptor = ToolDescriptor(
        name: "dns.records_set", summary: "Serve host name → address records (A/AAAA + PTR) from the resolver",
        effect: .change,
        inputSchema: .object(
            recordProperties.merging(
                ["records": .array(of: .object(recordProperties, required: ["name"]), "Several records", minItems: 1)],
                uniquingKeysWith: { first, _ in first }),
            examples: [
                ["name": "nas.lan", "address": "192.168.1.20"],
                [
                    "records": [
                        ["name": "a.lan", "address": "10.0.0.2"],
                        ["name": "b.lan", "addresses": ["10.0.0.3", "fd00::3"]],
                    ]
                ],
            ]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let now = toolContext.clock.nowMs()
        var wanted: [DNSLocalRecord] = []
        let raw: [(RecordsSetInput.RecordInput, String)] =
            input.records.map { $0.enumerated().map { ($1, "input.records[\($0)]") } }
            ?? [
                (
                    RecordsSetInput.RecordInput(
                        name: input.name ?? "", address: input.address, addresses: input.addresses, ttl: input.ttl),
                    "input"
                )
            ]
        for (record, field) in raw {
            guard !record.name.isEmpty else {
                throw AiosError(
                    .invalidInput, "required field is missing", location: InputLocation(field: "\(field).name"))
            }
            let name = try DNSName.normalise(record.name, field: "\(field).name", allowSingleLabel: true)
            if name == "localhost" || name.hasSuffix(".localhost") {
                throw AiosError(
                    .invalidInput,
                    "\(name) is the machine itself (RFC 6761: localhost names always mean loopback) and cannot be overridden",
                    location: InputLocation(field: "\(field).name"))
            }
            let addresses = (record.addresses ?? []) + (record.address.map { [$0] } ?? [])
            guard !addresses.isEmpty else {
                throw AiosError(
                    .invalidInput, "give address or addresses", location: InputLocation(field: "\(field).address"))
            }
            for (index, address) in addresses.enumerated() where IPAddressText.parse(address) == nil {
                throw AiosError(
                    .invalidInput, "\(address) is not an IPv4 or IPv6 address",
                    location: InputLocation(
                        field: record.addresses != nil ? "\(field).addresses[\(index)]" : "\(field).address"))
            }
            let normalised = addresses.compactMap { IPAddressText.parse($0).flatMap(IPAddressText.format) }
            wanted.append(
                DNSLocalRecord(
                    name: name, addresses: normalised, ttl: record.ttl ?? 300, origin: toolContext.origin.rawValue,
                    createdMs: now))
        }
        let existing = Dictionary(
            try await context.store.dnsRecords().map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        let changed = wanted.filter { existing[$0.name]?.addresses != $0.addresses || existing[$0.name]?.ttl != $0.ttl }
        let output = RecordsOutput(records: wanted, changed: changed.map(\.name), hostsFile: context.records.hostsFile)
        guard !changed.isEmpty else { return .unchanged(output) }
        let diff = changed.map { record in
            Change(
                existing[record.name] == nil ? "add" : "set", "record \(record.name)",
                detail: record.addresses.joined(separator: ", "))
        }
        let previous = changed.compactMap { existing[$0.name] }
        let added = changed.filter { existing[$0.name] == nil }.map(\.name)
        // Undo: put back the previous addresses and remove the new names.
        let inverse = CallRequest(
            tool: RecordsRestoreTool.descriptor.name,
            input: [
                "records": (try? JSONValue(encoding: previous)) ?? [], "remove": .array(added.map(JSONValue.string)),
            ])
        let context = context
        return .change(diff, inverse: inverse) {
            try await context.store.saveDNSRecords(changed)
            try await context.records.apply(try await context.store.dnsRecords(), changed: changed.map(\.name))
            return output
        }
    }
}

/// `dns.records_remove`: stop serving records.
public struct RecordsRemoveTool: Tool {
    public typealias Input = NamesInput
    public typealias Output = RecordsOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.records_remove", summary: "Stop serving local records", effect: .change,
        inputSchema: NamesInput.schema("stop serving", examples: [["name": "nas.lan"]]))
    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let names: [String]
        if let list = input.names, !list.isEmpty {
            names = try list.enumerated().map {
                try DNSName.normalise($1, field: "input.names[\($0)]", allowSingleLabel: true)
            }
        } else if let name = input.name {
            names = [try DNSName.normalise(name, field: "input.name", allowSingleLabel: true)]
        } else {
            throw AiosError(.invalidInput, "give name or names", location: InputLocation(field: "input.name"))
        }
        let existing = try await context.store.dnsRecords().filter { names.contains($0.name) }
        let output = RecordsOutput(
            records: existing, changed: existing.map(\.name), hostsFile: context.records.hostsFile)
        guard !existing.isEmpty else { return .unchanged(output) }
        let inverse = CallRequest(
            tool: RecordsRestoreTool.descriptor.name, input: ["records": (try? JSONValue(encoding: existing)) ?? []])
        let context = context
        return .change(existing.map { Change("remove", "record \($0.name)") }, inverse: inverse) {
            try await context.store.deleteDNSRecords(existing.map(\.name))
            try await context.records.apply(try await context.store.dnsRecords(), changed: existing.map(\.name))
            return output
        }
    }
}

/// `dns.records_restore`: put records back as they were (the inverse of set and remove).
public struct RecordsRestoreTool: Tool {
    /// Records to put back and names to remove.
    public struct Input: Decodable, Sendable {
        public var records: [DNSLocalRecord]?
        public var remove: [String]?
    }
    public typealias Output = RecordsOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.records_restore",
        summary: "Put local records back as a snapshot had them (the records tools' inverse)",
        effect: .change,
        inputSchema: .object(
            [
                "records": .array(of: JSONSchema(["type": "object"]), "Records as dns.records_list gives them"),
                "remove": .array(of: .string("A name", maxLength: 253), "Names to remove"),
            ], examples: [["remove": ["nas.lan"]]]))
    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let records = input.records ?? []
        let remove = input.remove ?? []
        let output = RecordsOutput(
            records: records, changed: records.map(\.name) + remove, hostsFile: context.records.hostsFile)
        guard !output.changed.isEmpty else { return .unchanged(output) }
        let context = context
        return .change(output.changed.map { Change("set", "record \($0)", detail: "restored") }) {
            try await context.store.deleteDNSRecords(remove)
            try await context.store.saveDNSRecords(records)
            try await context.records.apply(try await context.store.dnsRecords(), changed: output.changed)
            return output
        }
    }
}

/// `dns.records_list`: the local records.
public struct RecordsListTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}
    public typealias Output = RecordsOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.records_list", summary: "List the local records the resolver serves", effect: .read,
        inputSchema: .object(examples: [[:]]))
    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let context = context
        return .read {
            RecordsOutput(
                records: try await context.store.dnsRecords(), changed: [], hostsFile: context.records.hostsFile)
        }
    }
}
