import AiosCore
import Foundation
import Yams

/// Decodes YAML documents (policies now, goal files later) into `Decodable` types, turning every
/// failure into `AiosError.invalidInput` whose location names the file, line and field.
///
/// Yams reports line and column for syntax errors but only a coding path for schema errors, so
/// for those the document is composed into nodes and the path is walked to find the line.
public enum YAMLDocument {
    /// Decodes `text` (the content of `file`) as `T`.
    /// - Throws: `AiosError.invalidInput` with `file:line` and the field path.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String) throws -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, let yaml = context.underlyingError as? YamlError {
                throw syntaxError(yaml, file: file)
            }
            let problem = DecodingProblem.error(from: error, root: "")
            let path = codingPath(of: error)
            let mark = (try? Yams.compose(yaml: text)).flatMap { $0.map { locate(path, in: $0) } } ?? nil
            throw AiosError(
                .invalidInput, problem.message,
                location: InputLocation(
                    file: file, line: mark?.line, column: mark?.column, field: problem.location?.field))
        } catch {
            throw AiosError(.invalidInput, "\(error)", location: InputLocation(file: file))
        }
    }

    /// Reads and decodes the file at `path`.
    /// - Throws: `AiosError.invalidInput` (bad content) or `.notFound` (unreadable file).
    public static func load<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AiosError(
                .notFound, "cannot read \(path): \(error.localizedDescription)", location: InputLocation(file: path))
        }
        return try decode(type, from: text, file: path)
    }

    static func syntaxError(_ error: YamlError, file: String) -> AiosError {
        let (problem, mark): (String, Mark?) = {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                return (problem, mark)
            case .duplicatedKeysInMapping(let duplicates, let context):
                return ("duplicate key(s): \(duplicates.joined(separator: ", "))", context.mark)
            default:
                return ("\(error)", nil)
            }
        }()
        return AiosError(
            .invalidInput, "YAML syntax error: \(problem)",
            location: InputLocation(file: file, line: mark?.line, column: mark?.column))
    }

    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath
        case .keyNotFound(_, let context):
            return context.codingPath
        @unknown default:
            return []
        }
    }

    /// The mark of the deepest node along `path` (a key's own mark for mapping entries).
    private static func locate(_ path: [any CodingKey], in root: Node) -> Mark? {
        var node = root
        var mark = root.mark
        for key in path {
            if let index = key.intValue, let sequence = node.sequence, index < sequence.count {
                node = sequence[index]
                mark = node.mark ?? mark
            } else if let mapping = node.mapping,
                let entry = mapping.first(where: { $0.key.string == key.stringValue })
            {
                mark = entry.key.mark ?? mark
                node = entry.value
                if path.last?.stringValue != key.stringValue { mark = node.mark ?? mark }
            } else {
                break
            }
        }
        return mark
    }
}
