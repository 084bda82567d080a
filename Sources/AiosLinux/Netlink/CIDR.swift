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
        if let fast = Self.dottedQuad(text) {
            self = fast
            return
        }
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

    /// The common case, without allocating: a dotted quad (already the text inet_ntop writes, as
    /// inet_pton takes no leading zeros) with an optional `/length`. Nil for anything else.
    private static func dottedQuad(_ text: String) -> CIDR? {
        guard let prefix = IPAddressText.ipv4Prefix(text.utf8) else { return nil }
        let address = prefix.length == nil ? text : String(text.utf8.prefix(prefix.addressCount))!
        return CIDR(address: address, length: prefix.length ?? 32, isIPv6: false)
    }

    private init(address: String, length: Int, isIPv6: Bool) {
        self.address = address
        self.length = length
        self.isIPv6 = isIPv6
    }
}

extension CIDR {
    /// The address as a number (IPv4 in the low 32 bits).
    public var value: UInt128 { Self.number(address) ?? 0 }

    private var bits: Int { isIPv6 ? 128 : 32 }

    private var hostMask: UInt128 {
        let hostBits = bits - length
        return hostBits >= 128 ? .max : (UInt128(1) << hostBits) - 1
    }

    /// The prefix with its host bits cleared (`10.0.0.5/8` → `10.0.0.0/8`).
    public var network: CIDR {
        CIDR("\(Self.text(value & ~hostMask, ipv6: isIPv6))/\(length)")!
    }

    /// How many addresses the prefix holds.
    public var size: UInt128 { hostMask == .max ? .max : hostMask + 1 }

    /// The address `offset` places after the network address, or nil when outside the prefix.
    public func host(_ offset: UInt128) -> String? {
        guard offset <= hostMask else { return nil }
        return Self.text((value & ~hostMask) + offset, ipv6: isIPv6)
    }

    /// The offset of `address` from the network address, or nil when it is outside the prefix
    /// (or of the other family).
    public func offset(of address: String) -> UInt128? {
        guard let number = Self.number(address), (IPAddressText.parse(address)?.count == 16) == isIPv6 else {
            return nil
        }
        let base = value & ~hostMask
        guard number & ~hostMask == base else { return nil }
        return number - base
    }

    /// True when `address` lies inside the prefix.
    public func contains(_ address: String) -> Bool { offset(of: address) != nil }

    /// True when the two prefixes share an address.
    public func overlaps(_ other: CIDR) -> Bool {
        guard isIPv6 == other.isIPv6 else { return false }
        let a = value & ~hostMask
        let b = other.value & ~other.hostMask
        return a <= b | other.hostMask && b <= a | hostMask
    }

    static func number(_ text: String) -> UInt128? {
        if let value = IPAddressText.ipv4Value(text) { return UInt128(value) }
        return IPAddressText.parse(text).map { $0.reduce(UInt128(0)) { ($0 << 8) | UInt128($1) } }
    }

    static func text(_ value: UInt128, ipv6: Bool) -> String {
        let count = ipv6 ? 16 : 4
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: value >> UInt128(8 * (count - 1 - $0))) }
        return IPAddressText.format(bytes) ?? "?"
    }
}
