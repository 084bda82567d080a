import AiosLinux
import Testing

@testable import AiosFirewallTools

@Suite("address parsing without allocating agrees with inet_pton / inet_ntop")
struct AddressParsingTests {
    /// What CIDR would hold when parsed only through inet_pton and inet_ntop.
    static func reference(_ text: String) -> String? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPAddressText.parse(String(parts[0])), let address = IPAddressText.format(bytes) else {
            return nil
        }
        let maximum = bytes.count == 16 ? 128 : 32
        guard parts.count == 2 else { return "\(address)/\(maximum)" }
        guard let length = Int(parts[1]), (0...maximum).contains(length), parts[1].allSatisfy(\.isNumber) else {
            return nil
        }
        return "\(address)/\(length)"
    }

    @Test(
        "dotted quads, prefixes and near misses",
        arguments: [
            "10.0.0.1", "10.0.0.1/8", "0.0.0.0/0", "255.255.255.255", "1.2.3.4/32", "1.2.3.4/33", "010.0.0.1",
            "1.02.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/ 8", "1.2.3.4/-1",
            ".1.2.3", "1..2.3", "1.2.3.", "fd00::1/64", "::ffff:1.2.3.4", "", "a.b.c.d", "1.2.3.4/128",
            "1.2.3.4/032", "1.2.3.4/3a", "1.2.3.4/8/8", "10.0.0.5/31", "1.2.3.4 ",
        ])
    func agrees(text: String) throws {
        #expect(CIDR(text)?.description == Self.reference(text))
        if let cidr = CIDR(text), !cidr.isIPv6 {
            let bytes = IPAddressText.parse(cidr.address) ?? []
            #expect(IPAddressText.ipv4Value(cidr.address) == bytes.reduce(0) { $0 << 8 | UInt32($1) })
        }
        // A rule's addresses are read in one pass (dotted quads) or through CIDR: the same result.
        let range = AddressRange(cidrText: text)
        #expect(range?.cidrText == Self.reference(text))
        if let range, let cidr = CIDR(text) {
            let bits = cidr.isIPv6 ? 128 : 32
            let hostMask: UInt128 = bits - cidr.length >= 128 ? .max : (UInt128(1) << (bits - cidr.length)) - 1
            #expect(range.low == cidr.value & ~hostMask && range.high == range.low | hostMask)
            #expect(range.isIPv6 == cidr.isIPv6 && range.address == cidr.address && range.length == cidr.length)
        }
    }
}

@Suite("rule ids")
struct RuleIDTests {
    @Test("16 lowercase hex digits, consecutive within a batch, from a random start per batch")
    func consecutiveHex() {
        let ids = RuleIDs()
        let drawn = (0..<5000).map { ids.id($0) }
        #expect(Set(drawn).count == drawn.count)
        #expect(drawn.allSatisfy { $0.utf8.count == 16 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        let values = drawn.compactMap { UInt64($0, radix: 16) }
        #expect(values.count == drawn.count)
        #expect(zip(values, values.dropFirst()).allSatisfy { $1 == $0 &+ 1 }, "one batch numbers its rules in a row")
        let starts = (0..<40).map { _ in RuleIDs().id(0) }
        #expect(Set(starts).count == starts.count)
        #expect(Set(starts.map { $0.prefix(1) }).count > 8, "each batch starts somewhere random")
    }
}
