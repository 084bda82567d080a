/// A set element's key as the kernel lays it out: the fields of a concatenation one after the
/// other, each padded to whole 32-bit words (an address is 4 or 16 bytes, a protocol 1 byte and a
/// port 2 big-endian, each in a word of its own, an interface name 16). Kept inline (up to 64
/// bytes, enough for `ifname . ipv6_addr . ipv6_addr . inet_proto . inet_service`), so writing a
/// 100k-element transaction allocates nothing per key.
public struct NftablesKey: Sendable, Equatable {
    /// The longest key this holds, in bytes.
    public static let capacity = 64

    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// Bytes written so far (always whole words).
    public private(set) var count = 0

    /// An empty key.
    public init() {}

    /// A key of these bytes (as an element dump reports them); nil when they are more than
    /// `capacity` or not whole words.
    public init?(bytes: [UInt8]) {
        guard bytes.count <= Self.capacity, bytes.count % 4 == 0 else { return nil }
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        count = bytes.count
    }

    /// An address of `width` bytes (4 or 16), big-endian; IPv4 is the low 32 bits of `value`.
    public mutating func append(address value: UInt128, width: Int) {
        precondition(width == 4 || width == 16, "an address is 4 or 16 bytes")
        write(width) { bytes, at in
            for index in 0..<width { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - index))) }
        }
    }

    /// One byte (an `inet_proto`), padded to a word.
    public mutating func append(byte value: UInt8) {
        write(4) { bytes, at in bytes[at] = value }
    }

    /// A port (an `inet_service`): two bytes big-endian, padded to a word.
    public mutating func append(port value: UInt16) {
        write(4) { bytes, at in
            bytes[at] = UInt8(value >> 8)
            bytes[at + 1] = UInt8(truncatingIfNeeded: value)
        }
    }

    /// An interface name (an `ifname`): its bytes (at most 15) padded to 16 (IFNAMSIZ) with NULs,
    /// or with `padding` — nft writes a wildcard `eth*` as the range from `eth` padded with 0x00
    /// to `eth` padded with 0xff.
    public mutating func append(interface name: String, padding: UInt8 = 0) {
        write(16) { bytes, at in
            let name = name.utf8.prefix(15)
            for (index, byte) in name.enumerated() { bytes[at + index] = byte }
            for index in name.count..<16 { bytes[at + index] = padding }
        }
    }

    /// The bytes written.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// Calls `body` with the bytes written.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    public static func == (left: NftablesKey, right: NftablesKey) -> Bool {
        left.withBytes { one in right.withBytes { other in one.elementsEqual(other) } }
    }

    /// Zeroes the next `length` bytes (whole words), lets `fill` write into them, and counts them.
    private mutating func write(_ length: Int, _ fill: (UnsafeMutableRawBufferPointer, Int) -> Void) {
        precondition(count + length <= Self.capacity, "an nftables key is at most \(Self.capacity) bytes")
        let at = count
        withUnsafeMutableBytes(of: &storage) { bytes in
            for index in at..<(at + length) { bytes[index] = 0 }
            fill(bytes, at)
        }
        count += length
    }
}
