/// An input that reads itself straight from the JSON tree, for tools whose inputs can be large (a
/// 100k-entry batch): Codable's keyed containers cost microseconds per field. The pipeline has
/// checked the tree against the tool's schema first; errors still name the field.
public protocol TreeDecodable {
    /// Reads `tree`.
    /// - Throws: `AiosError.invalidInput` naming the offending field.
    init(tree: JSONValue) throws
}

extension JSONValue {
    /// The string, or an `.invalidInput` error naming `field`.
    public func string(field: @autoclosure () -> String) throws -> String {
        guard case .string(let text) = self else { throw mismatch("a string", field: field()) }
        return text
    }

    /// The members of an object, or an `.invalidInput` error naming `field`.
    public func members(field: @autoclosure () -> String) throws -> [String: JSONValue] {
        guard case .object(let members) = self else { throw mismatch("an object", field: field()) }
        return members
    }

    /// The elements of an array, or an `.invalidInput` error naming `field`.
    public func elements(field: @autoclosure () -> String) throws -> [JSONValue] {
        guard case .array(let elements) = self else { throw mismatch("an array", field: field()) }
        return elements
    }

    /// `expected …, got …` for `field`.
    public func mismatch(_ expected: String, field: String) -> AiosError {
        AiosError(.invalidInput, "expected \(expected), got \(typeName)", location: InputLocation(field: field))
    }
}
