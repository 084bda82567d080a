public import AiosCore
import AiosStore

/// Input of the single-name tools.
public struct NamesInput: Decodable, Sendable {
    public var name: String?
    public var names: [String]?
    public var comment: String?

    static func schema(_ verb: String, examples: [JSONValue]) -> JSONSchema {
        .object(
            [
                "name": .string("The name to \(verb) (with everything below it)", minLength: 1, maxLength: 255),
                "names": .array(of: .string("A name", maxLength: 255), "Several names at once", minItems: 1),
                "comment": .string("Why", maxLength: 128),
            ], examples: examples)
    }
}

/// Output of the single-name tools.
public struct NamesOutput: Codable, Sendable {
    /// Names now on (or taken off) the list.
    public var names: [String]
    /// Names that were already as asked.
    public var unchanged: [String]
    /// For `dns.unblock`: names still blocked by a list (use dns.allow to override a list).
    public var stillBlockedBy: [String: String]?
    public var resolver: ZoneSyncReport?

    enum CodingKeys: String, CodingKey {
        case names, unchanged, resolver
        case stillBlockedBy = "still_blocked_by"
    }
}

/// Adds or removes single names of one kind and syncs the resolver.
struct NameEdit: Sendable {
    let context: DNSContext
    /// `block` or `allow`.
    let kind: String
    /// `dns.block` or `dns.allow`.
    let source: String
    let add: Bool

    func plan(_ input: NamesInput, tool: ToolDescriptor, inverse: String, in toolContext: ToolContext) async throws
        -> ToolPlan<NamesOutput>
    {
        let names = try DNSName.list(name: input.name, names: input.names)
        let present = Set(try await context.store.dnsNames(kind: kind, source: source).map(\.name))
        let adding = self.add
        let todo = names.filter { adding ? !present.contains($0) : present.contains($0) }
        let already = names.filter { !todo.contains($0) }
        var output = NamesOutput(names: todo, unchanged: already, stillBlockedBy: nil, resolver: nil)
        if self.kind == "block" && !adding {
            var still: [String: String] = [:]
            try await context.rows.flush()
            for name in names {
                var probe = LookupTool.Output(
                    name: name, type: "A", server: "", rcode: "", answers: [], ttl: 0, canonicalName: nil,
                    blocked: false)
                try await LookupTool.attribute(name, into: &probe, store: context.store)
                if probe.blocked, let list = probe.list, list != "dns.block" { still[name] = list }
            }
            if !still.isEmpty { output.stillBlockedBy = still }
        }
        guard !todo.isEmpty else { return .unchanged(output) }
        let verb = adding ? "add" : "remove"
        let noun = self.kind
        let diff = todo.map { Change(verb, "\(noun) \($0)", detail: input.comment) }
        let request = CallRequest(tool: inverse, input: ["names": .array(todo.map(JSONValue.string))])
        let context = context
        let (kind, source, add) = (self.kind, self.source, self.add)
        let origin = toolContext.origin.rawValue
        let now = toolContext.clock.nowMs()
        let planned = output
        return .change(diff, inverse: request) {
            var output = planned
            if add {
                try await context.store.addDNSNames(
                    todo.map {
                        DNSNameRecord(
                            name: $0, kind: kind, source: source, origin: origin, comment: input.comment, createdMs: now
                        )
                    })
            } else {
                try await context.store.removeDNSNames(todo, kind: kind, source: source)
            }
            output.resolver = try await context.zones.sync(try await context.settings())
            return output
        }
    }
}

/// `dns.block`: block single names (and everything below them).
public struct BlockTool: Tool {
    public typealias Input = NamesInput
    public typealias Output = NamesOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.block", summary: "Block names (and their subdomains) in the managed resolver", effect: .change,
        inputSchema: NamesInput.schema(
            "block", examples: [["name": "ads.example.com"], ["names": ["a.example", "b.example"]]]))
    let context: DNSContext
    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        try await NameEdit(context: context, kind: "block", source: "dns.block", add: true).plan(
            input, tool: Self.descriptor, inverse: UnblockTool.descriptor.name, in: toolContext)
    }
}

/// `dns.unblock`: take names blocked with `dns.block` off again (names a list blocks stay
/// blocked, and the output says by which list: use `dns.allow` to override a list).
public struct UnblockTool: Tool {
    public typealias Input = NamesInput
    public typealias Output = NamesOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.unblock", summary: "Remove names blocked with dns.block (lists are overridden with dns.allow)",
        effect: .change, inputSchema: NamesInput.schema("unblock", examples: [["name": "ads.example.com"]]))
    let context: DNSContext
    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        try await NameEdit(context: context, kind: "block", source: "dns.block", add: false).plan(
            input, tool: Self.descriptor, inverse: BlockTool.descriptor.name, in: toolContext)
    }
}

/// `dns.allow`: names that always resolve, whatever the lists say (the allowlist always wins,
/// for the name and everything below it).
public struct AllowTool: Tool {
    public typealias Input = NamesInput
    public typealias Output = NamesOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.allow", summary: "Always resolve these names (and their subdomains), whatever the blocklists say",
        effect: .change,
        inputSchema: NamesInput.schema("allow", examples: [["name": "good.example.com", "comment": "needed by CI"]]))
    let context: DNSContext
    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        try await NameEdit(context: context, kind: "allow", source: "dns.allow", add: true).plan(
            input, tool: Self.descriptor, inverse: AllowRemoveTool.descriptor.name, in: toolContext)
    }
}

/// `dns.allow_remove`: take names off the allowlist.
public struct AllowRemoveTool: Tool {
    public typealias Input = NamesInput
    public typealias Output = NamesOutput
    public static let descriptor = ToolDescriptor(
        name: "dns.allow_remove", summary: "Take names off the allowlist", effect: .change,
        inputSchema: NamesInput.schema("take off the allowlist", examples: [["name": "good.example.com"]]))
    let context: DNSContext
    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        try await NameEdit(context: context, kind: "allow", source: "dns.allow", add: false).plan(
            input, tool: Self.descriptor, inverse: AllowTool.descriptor.name, in: toolContext)
    }
}
