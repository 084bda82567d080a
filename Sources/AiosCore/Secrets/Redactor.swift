import Synchronization

/// The one redaction function, used for logs, audit events, CLI output and anything sent to an LLM.
///
/// It removes three kinds of secret: values of schema fields marked `x-secret`, values of fields
/// whose names say they are secret (`private_key`, `api_key`, `password`, `token`, `secret`,
/// `authorization`), and any occurrence of a value registered with `register(_:)` (keys the daemon
/// generates or loads), wherever it appears in text.
public final class Redactor: Sendable {
    /// What replaces a secret.
    public static let placeholder = "<redacted>"

    private static let secretNameFragments = [
        "private_key", "privatekey", "api_key", "apikey", "password",
        "passwd", "secret", "token", "authorization", "preshared_key", "psk",
    ]

    private let known = Mutex<Set<String>>([])

    /// Creates a redactor with no registered values.
    public init() {}

    /// Registers a secret value so it is removed from any text. Values shorter than 6 characters
    /// are ignored (they would redact ordinary words).
    public func register(_ value: String) {
        guard value.count >= 6 else { return }
        _ = known.withLock { $0.insert(value) }
    }

    /// `text` with every registered secret replaced.
    public func redact(_ text: String) -> String {
        let values = known.withLock { $0 }
        guard !values.isEmpty else { return text }
        var out = text
        for value in values.sorted(by: { $0.count > $1.count }) where out.contains(value) {
            out = out.replacing(value, with: Self.placeholder)
        }
        return out
    }

    /// `value` with secret fields (by schema or by name) and registered values replaced.
    public func redact(_ value: JSONValue, schema: JSONSchema? = nil) -> JSONValue {
        let values = known.withLock { $0 }.sorted { $0.count > $1.count }
        var names: [String: Bool] = [:]
        return redact(value, path: "", secretPaths: schema?.secretPaths ?? [], values: values, names: &names)
    }

    /// True when a field of this name holds a secret.
    public static func isSecretName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return secretNameFragments.contains { lowered.contains($0) }
    }

    /// One walk of a document: the registered values read once, each member name judged once
    /// (a 1,000-interface listing repeats the same dozen names).
    private func redact(
        _ value: JSONValue, path: String, secretPaths: Set<String>, values: [String], names: inout [String: Bool]
    ) -> JSONValue {
        switch value {
        case .string(let text):
            guard !values.isEmpty else { return value }
            var out = text
            for secret in values where out.contains(secret) { out = out.replacing(secret, with: Self.placeholder) }
            return .string(out)
        case .array(let elements):
            return .array(
                elements.map { redact($0, path: path + "[]", secretPaths: secretPaths, values: values, names: &names) })
        case .object(let members):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(members.count)
            for (name, member) in members {
                let memberPath = secretPaths.isEmpty ? "" : (path.isEmpty ? name : "\(path).\(name)")
                let secretName: Bool
                if let known = names[name] {
                    secretName = known
                } else {
                    secretName = Self.isSecretName(name)
                    names[name] = secretName
                }
                if (!secretPaths.isEmpty && secretPaths.contains(memberPath)) || (secretName && member != .null) {
                    out[name] = .string(Self.placeholder)
                } else {
                    out[name] = redact(
                        member, path: memberPath, secretPaths: secretPaths, values: values, names: &names)
                }
            }
            return .object(out)
        case .null, .bool, .number:
            return value
        }
    }
}
