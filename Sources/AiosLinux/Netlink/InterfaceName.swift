/// Linux interface names as the kernel accepts them (`dev_valid_name`): 1–15 bytes, not `.` or
/// `..`, no `/`, `:` or whitespace.
public enum InterfaceName {
    /// IFNAMSIZ minus the terminating NUL.
    public static let maxLength = 15

    /// Whether the kernel would accept `name`.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength, name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7f }
    }
}
