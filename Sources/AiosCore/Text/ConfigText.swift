import Foundation

/// The one way a value is written into another program's configuration file (unbound.conf, the
/// DHCP client's hook script): checked first, then quoted in that file's syntax. A value that
/// cannot be written safely is refused, never altered: a newline, any other control character,
/// or a quote the syntax cannot escape would end the value and start a directive of the
/// caller's choosing.
public enum ConfigText {
    /// Why `value` cannot go into a configuration file (nil when it can): control characters
    /// (newline, carriage return, NUL, DEL and the rest) end a line or a string anywhere.
    public static func problem(_ value: String) -> String? {
        for scalar in value.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7f {
            return "contains a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
        }
        return nil
    }

    /// `value` as an unbound.conf string: in double quotes, which unbound's lexer cannot escape,
    /// so a `"` is refused too (inside quotes a `#` is text, not a comment).
    /// - Throws: `AiosError.invalidInput` naming `field`.
    public static func unbound(_ value: String, field: String) throws -> String {
        if let problem = problem(value) ?? (value.contains("\"") ? "contains a double quote" : nil) {
            throw AiosError(
                .invalidInput, "cannot be written into unbound.conf: \(problem)", location: InputLocation(field: field))
        }
        return "\"\(value)\""
    }

    /// `value` as one POSIX shell word: in single quotes, a `'` written as `'\''`.
    /// - Throws: `AiosError.invalidInput` naming `field`.
    public static func shell(_ value: String, field: String) throws -> String {
        if let problem = problem(value) {
            throw AiosError(
                .invalidInput, "cannot be written into a script: \(problem)", location: InputLocation(field: field))
        }
        return "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// Whether `name` is a host name (RFC 1123 labels: letters, digits and inner hyphens, 1–63
    /// each, 253 in all, an optional final dot): what a TLS certificate's name can be.
    public static func isHostName(_ name: String) -> Bool {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            label.utf8.count <= 63 && !label.isEmpty && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                        || byte == 0x2d
                }
        }
    }
}
