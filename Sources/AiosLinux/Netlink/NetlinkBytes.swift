internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// Netlink messages and attributes written into a byte array, for requests too big for a
/// socket's fixed buffer (an nftables batch of 100k set elements is several MB). Headers are in
/// host byte order, as netlink wants; every payload written here is whole words, so lengths need
/// no padding but strings'.
struct NetlinkBytes: Sendable {
    private(set) var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count) }

    /// Appends `value`'s bytes as they are in memory.
    mutating func append<Value: BitwiseCopyable>(raw value: Value) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf other: UnsafeRawBufferPointer) { bytes.append(contentsOf: other) }

    mutating func append(contentsOf other: ArraySlice<UInt8>) { bytes.append(contentsOf: other) }

    /// Starts a message (its length filled in by `endMessage`); returns where it starts.
    mutating func beginMessage(type: UInt16, flags: UInt16, sequence: UInt32) -> Int {
        let start = bytes.count
        append(raw: nlmsghdr(nlmsg_len: 0, nlmsg_type: type, nlmsg_flags: flags, nlmsg_seq: sequence, nlmsg_pid: 0))
        return start
    }

    mutating func endMessage(_ start: Int) { setLength(UInt32(bytes.count - start), at: start) }

    /// Starts an attribute (its length filled in by `endAttribute`); returns where it starts.
    mutating func beginAttribute(_ type: UInt32, nested: Bool) -> Int {
        let start = bytes.count
        append(raw: nlattr(nla_len: 0, nla_type: UInt16(type) | (nested ? UInt16(NLA_F_NESTED) : 0)))
        return start
    }

    mutating func endAttribute(_ start: Int) { setLength(UInt16(bytes.count - start), at: start) }

    /// A NUL-terminated string attribute, padded to a word.
    mutating func appendString(_ type: UInt32, _ text: String) {
        let start = beginAttribute(type, nested: false)
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
        endAttribute(start)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    private mutating func setLength<Length: FixedWidthInteger>(_ length: Length, at start: Int) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: Length.self) }
    }
}
