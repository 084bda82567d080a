public import AiosCore
import Foundation
import Yams

/// One YAML document of a file as a `JSONValue` tree that remembers where each node was written,
/// so a schema error at `spec.port` names the line and column of `port:` (goal files, with
/// several documents per file separated by `---`).
///
/// Bombs are refused: aliases are expanded while the tree is built, and a document that grows
/// beyond `maxNodes` nodes (a billion-laughs file stays small on disk) stops with an error.
public struct YAMLTree: Sendable {
    /// The document's content.
    public let value: JSONValue
    /// The line the document starts at (1-based).
    public let line: Int
    private let marks: [String: Position]

    /// A place in the file, 1-based.
    public struct Position: Sendable, Hashable {
        /// Line.
        public let line: Int
        /// Column.
        public let column: Int
    }

    /// Where the node at `path` (`kind`, `spec.port`, `spec.sources[1]`) was written, or the
    /// nearest enclosing node that was.
    public func position(of path: String) -> Position {
        var path = path
        while !path.isEmpty {
            if let mark = marks[path] { return mark }
            if path.hasSuffix("]"), let open = path.lastIndex(of: "[") {
                path = String(path[..<open])
            } else if let dot = path.lastIndex(of: ".") {
                path = String(path[..<dot])
            } else {
                path = ""
            }
        }
        return marks[""] ?? Position(line: line, column: 1)
    }

    /// An error for the node at `path` of this document of `file`.
    public func error(_ message: String, at path: String, file: String) -> AiosError {
        let position = position(of: path)
        return AiosError(
            .invalidInput, message,
            location: InputLocation(file: file, line: position.line, column: position.column, field: path))
    }

    /// The documents of `text` (empty documents are skipped).
    /// - Throws: `AiosError.invalidInput` with file, line and column: a syntax error, a key that
    ///   is not a string, a duplicate key, a tag other than the core schema's, or more than
    ///   `maxNodes` nodes in a document.
    public static func documents(_ text: String, file: String, maxNodes: Int = 100_000) throws -> [YAMLTree] {
        var trees: [YAMLTree] = []
        do {
            var roots = try Yams.compose_all(yaml: text)
            while let root = roots.next() {
                var builder = Builder(file: file, budget: maxNodes)
                let value = try builder.convert(root, path: "")
                if value == .null { continue }
                trees.append(YAMLTree(value: value, line: root.mark?.line ?? 1, marks: builder.marks))
            }
            if let error = roots.error { throw error }
        } catch let error as AiosError {
            throw error
        } catch let error as YamlError {
            throw YAMLDocument.syntaxError(error, file: file)
        } catch {
            throw AiosError(.invalidInput, "YAML: \(error)", location: InputLocation(file: file))
        }
        return trees
    }

    private struct Builder {
        let file: String
        var budget: Int
        var marks: [String: Position] = [:]

        mutating func convert(_ node: Node, path: String) throws -> JSONValue {
            budget -= 1
            guard budget >= 0 else {
                throw AiosError(
                    .invalidInput,
                    "the document expands to too many nodes (aliases of aliases?): refused as a YAML bomb",
                    location: InputLocation(file: file, line: node.mark?.line, column: node.mark?.column))
            }
            if let mark = node.mark, marks[path] == nil { marks[path] = Position(line: mark.line, column: mark.column) }
            switch node {
            case .scalar(let scalar):
                return try self.scalar(scalar, node: node)
            case .sequence(let sequence):
                var elements: [JSONValue] = []
                for (index, element) in sequence.enumerated() {
                    elements.append(try convert(element, path: "\(path)[\(index)]"))
                }
                return .array(elements)
            case .mapping(let mapping):
                var members: [String: JSONValue] = [:]
                for (key, value) in mapping {
                    guard case .scalar(let scalar) = key else {
                        throw located("a mapping key must be a plain string", key)
                    }
                    let name = scalar.string
                    let child = path.isEmpty ? name : "\(path).\(name)"
                    guard members[name] == nil else { throw located("duplicate key \"\(name)\"", key) }
                    if let mark = key.mark { marks[child] = Position(line: mark.line, column: mark.column) }
                    members[name] = try convert(value, path: child)
                }
                return .object(members)
            case .alias:
                throw located("an unresolved alias", node)
            }
        }

        private func scalar(_ scalar: Node.Scalar, node: Node) throws -> JSONValue {
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal
                || scalar.style == .folded
            {
                return .string(scalar.string)
            }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.number) ?? .string(scalar.string)
            case .str, .implicit, .nonSpecific: return .string(scalar.string)
            default: throw located("the tag \(node.tag.rawValue) is not supported", node)
            }
        }

        private func located(_ message: String, _ node: Node) -> AiosError {
            AiosError(
                .invalidInput, message,
                location: InputLocation(file: file, line: node.mark?.line, column: node.mark?.column))
        }
    }
}
