import Foundation

/// A JSON document as a value: what tool calls carry in and out, what schemas are written in.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        // Decoding a tree into a tree: take the node as it is (no trial and error).
        if let tree = decoder as? TreeDecoder {
            self = tree.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9.007e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text.
    /// - Throws: `AiosError.invalidInput` naming the position when the text is not JSON.
    public init(parsing text: String) throws {
        do {
            self = try JSONText.parse(Array(text.utf8))
        } catch {
            throw AiosError(.invalidInput, "not valid JSON: \(error)", location: InputLocation(field: "input"))
        }
    }

    /// Parses JSON bytes.
    /// - Throws: `AiosError.invalidInput` naming the position when the bytes are not JSON.
    public init(parsing bytes: [UInt8]) throws {
        do {
            self = try JSONText.parse(bytes)
        } catch {
            throw AiosError(.invalidInput, "not valid JSON: \(error)", location: InputLocation(field: "input"))
        }
    }

    /// Encodes any `Encodable` into a JSON value.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoding.encode(value)
    }

    /// Decodes this value as `T`.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONValueDecoding.decode(T.self, from: self)
    }

    /// Compact JSON text with sorted keys (stable, so it can be compared and stored).
    public var jsonText: String { JSONText.write(self) }

    /// `jsonText` and a newline as UTF-8 bytes (no copy through a String): one line of a
    /// line-delimited protocol such as the control socket's.
    public var jsonLine: [UInt8] {
        var line = JSONText.bytes(self)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// Indented JSON text with sorted keys, for people.
    public var prettyText: String { JSONText.write(self, pretty: true) }

    /// This value with every array longer than `keeping` cut to its first `keeping` elements and
    /// a string saying how many more there were (for audit rows of big batches).
    public func abbreviated(keeping: Int) -> JSONValue {
        switch self {
        case .array(let elements) where elements.count > keeping:
            return .array(
                elements.prefix(keeping).map { $0.abbreviated(keeping: keeping) }
                    + [.string("… \(elements.count - keeping) more")])
        case .array(let elements): return .array(elements.map { $0.abbreviated(keeping: keeping) })
        case .object(let members): return .object(members.mapValues { $0.abbreviated(keeping: keeping) })
        default: return self
        }
    }

    /// The JSON type name used in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let value): value.rounded() == value ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The members of an object, or nil.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The string, or nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements of an array, or nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Member access for objects; nil for anything else.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
