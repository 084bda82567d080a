import Foundation

/// Turns a `DecodingError` into an `AiosError` naming the field, for any document kind.
public enum DecodingProblem {
    /// Maps `error` to `.invalidInput` with a dotted field path under `root`.
    public static func error(from error: any Error, root: String, file: String? = nil) -> AiosError {
        if let aios = error as? AiosError { return aios }
        guard let decoding = error as? DecodingError else {
            return AiosError(.invalidInput, "\(error)", location: InputLocation(file: file, field: root))
        }
        let (path, message): ([any CodingKey], String) = {
            switch decoding {
            case .typeMismatch(let type, let context):
                return (context.codingPath, "expected \(describe(type))" + detail(context))
            case .valueNotFound(let type, let context):
                return (context.codingPath, "expected \(describe(type)), got null")
            case .keyNotFound(let key, let context):
                return (context.codingPath + [key], "required field is missing")
            case .dataCorrupted(let context):
                return (context.codingPath, context.debugDescription)
            @unknown default:
                return ([], "\(decoding)")
            }
        }()
        let field = fieldPath(path, root: root)
        return AiosError(
            .invalidInput, message, location: InputLocation(file: file, field: field.isEmpty ? nil : field))
    }

    /// `rules[2].decision` from a coding path.
    public static func fieldPath(_ path: [any CodingKey], root: String) -> String {
        var out = root
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt32.Type, is UInt16.Type, is Int32.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            "\(type)".hasPrefix("Array") ? "a list" : "\(type)".hasPrefix("Dictionary") ? "a mapping" : "\(type)"
        }
    }

    private static func detail(_ context: DecodingError.Context) -> String {
        let text = context.debugDescription
        if let range = text.range(of: "but found ") {
            return ", got " + text[range.upperBound...].replacingOccurrences(of: " instead.", with: "")
        }
        return ""
    }
}
