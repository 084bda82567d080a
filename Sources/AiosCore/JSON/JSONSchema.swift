import Foundation

/// A JSON Schema (the subset aios-net uses) for a tool's input, written next to the `Input` type.
///
/// The same value is shown to people (`tools describe`), given to the LLM, and used by the pipeline
/// to reject bad input before a tool sees it. Its `examples` are decoded by a test through the
/// tool's `Input` type, so schema and type cannot drift apart unnoticed.
///
/// Supported keywords: `type`, `properties`, `required`, `additionalProperties` (false unless set),
/// `items`, `enum`, `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`, `minItems`,
/// `maxItems`, `description`, `examples`, and `x-secret` (a property whose value is redacted).
public struct JSONSchema: Sendable, Hashable {
    /// The schema document.
    public var document: JSONValue {
        didSet { compiled = CompiledSchema(document) }
    }
    /// `document` read once for checking.
    private var compiled: CompiledSchema

    /// Wraps a schema document.
    public init(_ document: JSONValue) {
        self.document = document
        compiled = CompiledSchema(document)
    }

    public static func == (lhs: JSONSchema, rhs: JSONSchema) -> Bool { lhs.document == rhs.document }

    public func hash(into hasher: inout Hasher) { hasher.combine(document) }

    /// An object schema. Unknown properties are rejected unless `additionalProperties` is true.
    public static func object(
        _ properties: [String: JSONSchema] = [:], required: [String] = [], description: String? = nil,
        additionalProperties: Bool = false, examples: [JSONValue] = []
    ) -> JSONSchema {
        var doc: [String: JSONValue] = [
            "type": "object",
            "properties": .object(properties.mapValues(\.document)),
            "additionalProperties": .bool(additionalProperties),
        ]
        if !required.isEmpty { doc["required"] = .array(required.sorted().map(JSONValue.string)) }
        if let description { doc["description"] = .string(description) }
        if !examples.isEmpty { doc["examples"] = .array(examples) }
        return JSONSchema(.object(doc))
    }

    /// A string schema, optionally restricted to `values` or a regular expression `pattern`.
    public static func string(
        _ description: String? = nil, values: [String]? = nil, pattern: String? = nil,
        minLength: Int? = nil, maxLength: Int? = nil, secret: Bool = false
    ) -> JSONSchema {
        var doc: [String: JSONValue] = ["type": "string"]
        if let description { doc["description"] = .string(description) }
        if let values { doc["enum"] = .array(values.map(JSONValue.string)) }
        if let pattern { doc["pattern"] = .string(pattern) }
        if let minLength { doc["minLength"] = .number(Double(minLength)) }
        if let maxLength { doc["maxLength"] = .number(Double(maxLength)) }
        if secret { doc["x-secret"] = true }
        return JSONSchema(.object(doc))
    }

    /// An integer schema with optional bounds.
    public static func integer(_ description: String? = nil, minimum: Int? = nil, maximum: Int? = nil) -> JSONSchema {
        var doc: [String: JSONValue] = ["type": "integer"]
        if let description { doc["description"] = .string(description) }
        if let minimum { doc["minimum"] = .number(Double(minimum)) }
        if let maximum { doc["maximum"] = .number(Double(maximum)) }
        return JSONSchema(.object(doc))
    }

    /// A boolean schema.
    public static func boolean(_ description: String? = nil) -> JSONSchema {
        var doc: [String: JSONValue] = ["type": "boolean"]
        if let description { doc["description"] = .string(description) }
        return JSONSchema(.object(doc))
    }

    /// An array schema.
    public static func array(
        of items: JSONSchema, _ description: String? = nil, minItems: Int? = nil, maxItems: Int? = nil
    ) -> JSONSchema {
        var doc: [String: JSONValue] = ["type": "array", "items": items.document]
        if let description { doc["description"] = .string(description) }
        if let minItems { doc["minItems"] = .number(Double(minItems)) }
        if let maxItems { doc["maxItems"] = .number(Double(maxItems)) }
        return JSONSchema(.object(doc))
    }

    /// The examples listed in the schema (each must validate and decode).
    public var examples: [JSONValue] { document["examples"]?.arrayValue ?? [] }

    /// Checks `value` against this schema.
    /// - Parameter path: the name of the value in messages (`input`).
    /// - Throws: `AiosError.invalidInput` whose location names the first offending field.
    public func validate(_ value: JSONValue, path: String = "input") throws {
        if let problem = compiled.check(value, path: path) {
            throw AiosError(.invalidInput, problem.message, location: InputLocation(field: problem.path))
        }
    }

    /// Field paths whose schema is marked `x-secret` (used by redaction).
    public var secretPaths: Set<String> {
        var out: Set<String> = []
        Self.collectSecrets(document, path: "", into: &out)
        return out
    }

    /// The string values found at `x-secret` fields of `value` (registered with the redactor).
    public func secretValues(in value: JSONValue) -> [String] {
        var out: [String] = []
        compiled.collectSecrets(in: value, into: &out)
        return out
    }

    private static func collectSecrets(_ schema: JSONValue, path: String, into out: inout Set<String>) {
        guard let rules = schema.objectValue else { return }
        if rules["x-secret"] == .bool(true) { out.insert(path) }
        for (name, sub) in rules["properties"]?.objectValue ?? [:] {
            collectSecrets(sub, path: CompiledSchema.join(path, name), into: &out)
        }
        if let items = rules["items"] { collectSecrets(items, path: path + "[]", into: &out) }
    }
}

extension JSONValue {
    /// The number as an `Int` when it is integral.
    public var intValue: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 9.2e18 { return Int(value) }
        return nil
    }
}
