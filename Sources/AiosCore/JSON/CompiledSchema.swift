import Foundation

/// A schema document read once into plain fields: checking a 100k-entry input then does no
/// dictionary lookup of a keyword per value. Its messages are the schema's own.
final class CompiledSchema: Sendable {
    enum Additional: Sendable {
        case allowed
        case refused
        case checked(CompiledSchema)
    }

    /// `type` as written: one name, or a list (a list's message names them all).
    let types: [String]
    let typeIsList: Bool
    let allowed: [JSONValue]?
    let secret: Bool
    let properties: [String: CompiledSchema]
    /// Sorted names of the required properties.
    let required: [String]
    let additional: Additional
    let items: CompiledSchema?
    let minItems: Int?
    let maxItems: Int?
    let minLength: Int?
    let maxLength: Int?
    let pattern: String?
    let minimum: Double?
    let maximum: Double?
    /// `name, name` of the properties, for the unknown-field message.
    let known: String
    /// Whether this node or one below it is `x-secret`.
    let holdsSecret: Bool

    init(_ document: JSONValue) {
        let rules = document.objectValue ?? [:]
        if let list = rules["type"]?.arrayValue {
            types = list.compactMap(\.stringValue)
            typeIsList = true
        } else {
            types = rules["type"]?.stringValue.map { [$0] } ?? []
            typeIsList = false
        }
        allowed = rules["enum"]?.arrayValue
        secret = rules["x-secret"] == .bool(true)
        let properties = (rules["properties"]?.objectValue ?? [:]).mapValues(CompiledSchema.init)
        self.properties = properties
        required = (rules["required"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
        switch rules["additionalProperties"] ?? .bool(true) {
        case .bool(false): additional = .refused
        case .object(let schema): additional = .checked(CompiledSchema(.object(schema)))
        default: additional = .allowed
        }
        items = rules["items"].map(CompiledSchema.init)
        minItems = rules["minItems"]?.intValue
        maxItems = rules["maxItems"]?.intValue
        minLength = rules["minLength"]?.intValue
        maxLength = rules["maxLength"]?.intValue
        pattern = rules["pattern"]?.stringValue
        if case .number(let value)? = rules["minimum"] { minimum = value } else { minimum = nil }
        if case .number(let value)? = rules["maximum"] { maximum = value } else { maximum = nil }
        known = properties.keys.sorted().joined(separator: ", ")
        var below = Array(properties.values) + [items].compactMap { $0 }
        if case .checked(let schema) = additional { below.append(schema) }
        holdsSecret = secret || below.contains(where: \.holdsSecret)
    }

    /// The string values of `value` at `x-secret` fields, appended to `out`; nothing is walked
    /// below a node that holds no secret (a 100k-entry batch has none).
    func collectSecrets(in value: JSONValue, into out: inout [String]) {
        guard holdsSecret else { return }
        if secret, let text = value.stringValue { out.append(text) }
        if case .object(let members) = value {
            for (name, member) in members { properties[name]?.collectSecrets(in: member, into: &out) }
        }
        if case .array(let elements) = value, let items {
            for element in elements { items.collectSecrets(in: element, into: &out) }
        }
    }

    struct Problem {
        var path: String
        var message: String
    }

    /// The first problem of `value` (members in name order), or nil. Paths and shown values are
    /// written only for a problem: a 100k-entry batch would otherwise build a path per field.
    func check(_ value: JSONValue, path: @autoclosure () -> String) -> Problem? {
        if !types.isEmpty, !types.contains(where: { Self.matches(value, type: $0) }) {
            let message =
                typeIsList
                ? "expected one of \(types.joined(separator: ", ")), got \(value.typeName)"
                : "expected \(Self.article(types[0])) \(types[0]), got \(value.typeName)"
            return Problem(path: path(), message: message)
        }
        func shown() -> String { secret ? Redactor.placeholder : value.jsonText }
        if let allowed, !allowed.contains(value) {
            if secret { return Problem(path: path(), message: "is not an allowed value") }
            let list = allowed.map { $0.stringValue ?? $0.jsonText }.joined(separator: ", ")
            return Problem(path: path(), message: "\(shown()) is not one of: \(list)")
        }
        switch value {
        case .object(let members):
            for name in required where members[name] == nil {
                return Problem(path: Self.join(path(), name), message: "required field is missing")
            }
            // Members in the dictionary's order first (no sorting per object); only when one is
            // wrong are they walked again in name order, so the field named is always the same.
            guard members.contains(where: { problem(member: $0.key, $0.value, path: "") != nil }) else { return nil }
            for name in members.keys.sorted() {
                if let problem = problem(member: name, members[name]!, path: path()) { return problem }
            }
        case .array(let elements):
            if let minItems, elements.count < minItems {
                return Problem(path: path(), message: "needs at least \(minItems) item(s), got \(elements.count)")
            }
            if let maxItems, elements.count > maxItems {
                return Problem(path: path(), message: "takes at most \(maxItems) item(s), got \(elements.count)")
            }
            if let items {
                for (index, element) in elements.enumerated() {
                    if let problem = items.check(element, path: "\(path())[\(index)]") { return problem }
                }
            }
        case .string(let text):
            // Characters are never more than UTF-8 bytes: count them only when that decides nothing.
            if let minLength, text.utf8.count < minLength || text.count < minLength {
                return Problem(path: path(), message: "must be at least \(minLength) character(s) long")
            }
            if let maxLength, text.utf8.count > maxLength && text.count > maxLength {
                return Problem(path: path(), message: "must be at most \(maxLength) character(s) long")
            }
            if let pattern, text.range(of: pattern, options: .regularExpression) == nil {
                return Problem(path: path(), message: "\(shown()) does not match \(pattern)")
            }
        case .number(let number):
            if let minimum, number < minimum {
                return Problem(
                    path: path(), message: "must be at least \(JSONValue.number(minimum).jsonText), got \(shown())")
            }
            if let maximum, number > maximum {
                return Problem(
                    path: path(), message: "must be at most \(JSONValue.number(maximum).jsonText), got \(shown())")
            }
        case .null, .bool:
            break
        }
        return nil
    }

    private func problem(member name: String, _ value: JSONValue, path: @autoclosure () -> String) -> Problem? {
        if let schema = properties[name] { return schema.check(value, path: Self.join(path(), name)) }
        switch additional {
        case .allowed: return nil
        case .checked(let schema): return schema.check(value, path: Self.join(path(), name))
        case .refused:
            return Problem(
                path: Self.join(path(), name),
                message: "unknown field" + (known.isEmpty ? " (this tool takes no input)" : " (known fields: \(known))")
            )
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null):
            true
        case ("number", .number): true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    private static func article(_ type: String) -> String {
        ["a", "e", "i", "o", "u"].contains(type.prefix(1)) ? "an" : "a"
    }

    static func join(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }
}
