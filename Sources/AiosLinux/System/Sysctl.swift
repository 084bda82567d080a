import Foundation

/// Kernel parameters under `/proc/sys` (`net.ipv4.ip_forward`). Network ones belong to the
/// namespace of the process that opens the file, i.e. the daemon's.
public enum Sysctl {
    /// The value of `key` (dots or slashes), trimmed; nil when it does not exist.
    public static func read(_ key: String) -> String? {
        (try? String(contentsOfFile: path(key), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `value` to `key`.
    /// - Throws: `SystemCallError` when the file cannot be written.
    public static func write(_ key: String, _ value: String) throws(SystemCallError) {
        guard let handle = FileHandle(forWritingAtPath: path(key)) else {
            throw SystemCallError("open \(path(key))", errno: errno)
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data((value + "\n").utf8))
        } catch {
            throw SystemCallError("write \(path(key))", errno: EIO)
        }
    }

    static func path(_ key: String) -> String { "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/") }
}
