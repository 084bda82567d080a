/// An IPv4 or IPv6 prefix (`10.0.0.0/8`, `fd00::/8`; a bare address is a host prefix).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The address as written (normalised by inet_ntop).
    public var address: String
    /// The prefix length.
    public var length: Int
    /// True for IPv6.
    public var isIPv6: Bool

    /// Parses `text`.
    /// - Returns: nil when the address is not IPv4/IPv6 or the length is out of range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPAddressText.parse(String(parts[0])), let normalised = IPAddressText.format(bytes) else {
            return nil
        }
        isIPv6 = bytes.count == 16
        let maximum = isIPv6 ? 128 : 32
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            self.length = length
        } else {
            length = maximum
        }
        address = normalised
    }

    public var description: String { "\(address)/\(length)" }
}
