/// What the registry, the CLI, policies and the LLM know about a tool.
public struct ToolDescriptor: Sendable, Hashable {
    /// Namespaced name, `namespace.verb` (`net.interfaces`).
    public var name: String
    /// One line for people and the LLM.
    public var summary: String
    /// Read, change or disruptive.
    public var effect: Effect
    /// The JSON Schema of the input, with examples.
    public var inputSchema: JSONSchema

    /// Creates a descriptor.
    public init(name: String, summary: String, effect: Effect, inputSchema: JSONSchema) {
        self.name = name
        self.summary = summary
        self.effect = effect
        self.inputSchema = inputSchema
    }

    /// The part of the name before the first dot.
    public var namespace: String { String(name.prefix { $0 != "." }) }
}

extension ToolDescriptor: Encodable {
    private enum CodingKeys: String, CodingKey {
        case name, summary, effect, inputSchema = "input_schema"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(summary, forKey: .summary)
        try container.encode(effect, forKey: .effect)
        try container.encode(inputSchema.document, forKey: .inputSchema)
    }
}
