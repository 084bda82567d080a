public import AiosCore
import AiosYAML

/// Loads the policy in force: a file given with `--policy`, or the built-in default.
public enum PolicyLoader {
    /// Decodes the policy at `path` (nil: the built-in default).
    /// - Throws: `AiosError.invalidInput` naming file, line and field; `.notFound` for an unreadable file.
    public static func load(path: String?) throws -> Policy {
        guard let path else {
            return try YAMLDocument.decode(Policy.self, from: DefaultPolicy.yaml, file: "<built-in default policy>")
        }
        return try YAMLDocument.load(Policy.self, path: path)
    }
}
