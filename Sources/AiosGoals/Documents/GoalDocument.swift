public import AiosCore
import AiosYAML
import Foundation

/// One goal as a person wrote it: `kind`, `name`, `spec`, optional `expires` and `labels`.
public struct GoalDocument: Sendable, Hashable {
    /// The handler that keeps it true (`FirewallRule`, `DNSRecords`, …).
    public var kind: String
    /// Its unique name, DNS-label style.
    public var name: String
    /// What it wants, in the field names of the tool the kind drives.
    public var spec: JSONValue
    /// A duration from the goal's first sight (`2h`) or an RFC 3339 time.
    public var expires: String?
    /// Free labels for people and selectors.
    public var labels: [String: String]
    /// Where it was written: `file:line`.
    public var source: String

    /// The document's fields (the JSON a generation is the hash of).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["kind": .string(kind), "name": .string(name), "spec": spec]
        if let expires { members["expires"] = .string(expires) }
        if !labels.isEmpty { members["labels"] = .object(labels.mapValues(JSONValue.string)) }
        return .object(members)
    }

    /// The hash of the document's content (not of where it was written): `observedGeneration`.
    public var generation: String { Fingerprint.of(json.jsonText) }

    /// Creates a document.
    public init(
        kind: String, name: String, spec: JSONValue, expires: String? = nil, labels: [String: String] = [:],
        source: String
    ) {
        self.kind = kind
        self.name = name
        self.spec = spec
        self.expires = expires
        self.labels = labels
        self.source = source
    }

    /// Reads a stored document back (`json` of a record).
    public init(json: JSONValue, source: String) throws {
        guard let kind = json["kind"]?.stringValue, let name = json["name"]?.stringValue else {
            throw AiosError(.invalidInput, "a stored goal document lacks kind or name")
        }
        self.init(
            kind: kind, name: name, spec: json["spec"] ?? [:], expires: json["expires"]?.stringValue,
            labels: (json["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue), source: source)
    }

    static let fields: Set<String> = ["kind", "name", "spec", "expires", "labels"]

    /// `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`: a DNS label, so names are safe in file names,
    /// audit subjects and comments.
    static func isLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
    }
}

/// Goal files: YAML with one or more documents, each checked against its kind's schema, every
/// error naming file, line, column and field.
public enum GoalFile {
    /// The largest goal file read.
    public static let maxBytes = 1 << 20

    /// The documents of `text` (the content of `file`), validated by `kinds`.
    /// - Throws: `AiosError.invalidInput` at the first problem: a syntax error, an unknown field,
    ///   an unknown kind, a bad or duplicate name, a spec that fails its kind's schema, a bad expiry.
    public static func parse(_ text: String, file: String, kinds: GoalKinds) throws -> [GoalDocument] {
        guard text.utf8.count <= maxBytes else {
            throw AiosError(
                .invalidInput, "the file is over \(maxBytes / 1024) KiB: refused", location: InputLocation(file: file))
        }
        var documents: [GoalDocument] = []
        var names: Set<String> = []
        for tree in try YAMLTree.documents(text, file: file) {
            let document = try parse(tree, file: file, kinds: kinds)
            guard names.insert(document.name).inserted else {
                throw tree.error("the name \(document.name) is used twice in this file", at: "name", file: file)
            }
            documents.append(document)
        }
        return documents
    }

    private static func parse(_ tree: YAMLTree, file: String, kinds: GoalKinds) throws -> GoalDocument {
        guard let members = tree.value.objectValue else {
            throw tree.error("a goal is a mapping with kind, name and spec", at: "", file: file)
        }
        if let unknown = members.keys.sorted().first(where: { !GoalDocument.fields.contains($0) }) {
            throw tree.error(
                "unknown field \(unknown) (a goal has kind, name, spec, expires, labels)", at: unknown, file: file)
        }
        guard let kind = members["kind"]?.stringValue else {
            throw tree.error("kind is required: one of \(kinds.names.joined(separator: ", "))", at: "kind", file: file)
        }
        guard let handler = kinds.handler(kind) else {
            throw tree.error(
                "unknown kind \(kind): one of \(kinds.names.joined(separator: ", "))", at: "kind", file: file)
        }
        guard let name = members["name"]?.stringValue else {
            throw tree.error("name is required", at: "name", file: file)
        }
        guard GoalDocument.isLabel(name) else {
            throw tree.error(
                "name \"\(name)\" is not DNS-label style (a-z, 0-9, '-', at most 63, no '-' at either end)",
                at: "name", file: file)
        }
        let spec = members["spec"] ?? [:]
        do {
            try kinds.schema(kind).validate(spec, path: "spec")
            try handler.validate(spec)
        } catch let error as AiosError {
            throw tree.error(error.message, at: error.location?.field ?? "spec", file: file)
        }
        var expires: String?
        if let value = members["expires"] {
            guard let text = value.stringValue, (try? GoalExpiry.absolute(text, firstSeenMs: 0)) != nil else {
                throw tree.error(
                    "expires is a duration (2h, 30m) or an RFC 3339 time (2026-12-24T18:00:00Z)", at: "expires",
                    file: file)
            }
            expires = text
        }
        var labels: [String: String] = [:]
        if let value = members["labels"] {
            guard let object = value.objectValue else {
                throw tree.error("labels is a mapping of names to strings", at: "labels", file: file)
            }
            for (key, label) in object {
                guard let text = label.stringValue else {
                    throw tree.error("a label's value is a string", at: "labels.\(key)", file: file)
                }
                labels[key] = text
            }
        }
        return GoalDocument(
            kind: kind, name: name, spec: spec, expires: expires, labels: labels, source: "\(file):\(tree.line)")
    }
}

/// A goal's `expires`: a duration counted from the goal's first sight, or an RFC 3339 time.
public enum GoalExpiry {
    /// The expiry in epoch ms.
    /// - Throws: `AiosError.invalidInput` when `text` is neither form.
    public static func absolute(_ text: String, firstSeenMs: Int64) throws -> Int64 {
        if let duration = try? DurationText.milliseconds(text) { return firstSeenMs + duration }
        guard let absolute = RFC3339.milliseconds(text) else {
            throw AiosError(
                .invalidInput, "\"\(text)\" is neither a duration nor an RFC 3339 time",
                location: InputLocation(field: "expires"))
        }
        return absolute
    }
}
