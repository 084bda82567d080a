#if canImport(Glibc)
    import Glibc
#endif

/// Text forms of IPv4/IPv6 addresses (inet_ntop/inet_pton), and MAC addresses.
public enum IPAddressText {
    /// `10.0.0.1` or `fe80::1` for 4 or 16 address bytes; nil for other lengths.
    public static func format(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &output, socklen_t(output.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes of an IPv4 or IPv6 address in text form, or nil when it is neither.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The value of a dotted-quad IPv4 address as inet_pton reads it (four decimal parts of at
    /// most 255, no leading zeros), without allocating; nil for anything else.
    @inlinable
    public static func ipv4Value(_ text: some StringProtocol) -> UInt32? {
        guard let prefix = ipv4Prefix(text.utf8), prefix.length == nil else { return nil }
        return prefix.value
    }

    /// A dotted quad (as `ipv4Value` reads it) with an optional `/length` of one or two digits,
    /// at most 32, read in one pass without allocating: the value, the length (nil when there is
    /// none) and how many bytes the address takes. Nil for anything else. Inlinable, so that a
    /// caller in another module gets it specialised (unspecialised, every byte cost a witness call).
    @inlinable
    public static func ipv4Prefix(_ bytes: some Collection<UInt8>) -> (value: UInt32, length: Int?, addressCount: Int)?
    {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        var leadingZero = false
        var position = 0
        var lengthDigits = -1
        var length = 0
        for byte in bytes {
            position += 1
            if lengthDigits >= 0 {
                guard (0x30...0x39).contains(byte), lengthDigits < 2 else { return nil }
                length = length * 10 + Int(byte - 0x30)
                lengthDigits += 1
                continue
            }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") {
                guard digits > 0 else { return nil }
                value = value << 8 | part
                if byte == UInt8(ascii: "/") {
                    guard dots == 3 else { return nil }
                    lengthDigits = 0
                    continue
                }
                guard dots < 3 else { return nil }
                (part, digits, dots, leadingZero) = (0, 0, dots + 1, false)
                continue
            }
            guard (0x30...0x39).contains(byte), !leadingZero else { return nil }
            leadingZero = digits == 0 && byte == 0x30
            part = part * 10 + UInt32(byte - 0x30)
            digits += 1
            guard part <= 255 else { return nil }
        }
        if lengthDigits < 0 {
            guard digits > 0, dots == 3 else { return nil }
            return (value << 8 | part, nil, position)
        }
        guard lengthDigits > 0, length <= 32 else { return nil }
        return (value, length, position - lengthDigits - 1)
    }

    /// `aa:bb:cc:dd:ee:ff` for hardware address bytes.
    public static func mac(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
