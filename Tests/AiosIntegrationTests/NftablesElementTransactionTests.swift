import AiosLinux
import AiosTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `NftablesElementTransaction` against the real kernel, in a namespace of its own: what it sends
/// is what nft lists, a refused part changes nothing, and re-adding keeps timers.
@Suite("set elements over nfnetlink: one transaction, all or nothing", .serialized)
struct NftablesElementTransactionTests {
    /// `ipv4_addr . inet_proto . inet_service` (the `_src` sets' layout).
    static func host(_ address: UInt32, _ protocolNumber: UInt8, _ port: UInt16) -> NftablesKey {
        var key = NftablesKey()
        key.append(address: UInt128(address), width: 4)
        key.append(byte: protocolNumber)
        key.append(port: port)
        return key
    }

    static func ipv4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }

    /// A table `t` with an exact set `src` (holding 10.9.9.9 . tcp . 22) and an interval set `box`
    /// of the `_if` sets' IPv6 layout, made by nft.
    static func table(_ lab: Lab) throws -> String {
        let namespace = try lab.namespace("elements")
        try nft(
            namespace,
            "add table inet t; add set inet t src { type ipv4_addr . inet_proto . inet_service; flags timeout; }; add set inet t box { type ifname . ipv6_addr . ipv6_addr . inet_proto . inet_service; flags interval,timeout; }; add element inet t src { 10.9.9.9 . tcp . 22 }"
        )
        return namespace
    }

    @discardableResult
    static func nft(_ namespace: String, _ arguments: String...) throws -> String {
        try Shell.check(["ip", "netns", "exec", namespace, "nft"] + arguments)
    }

    @Test("additions and a deletion in two sets go in as one transaction, and nft lists what was sent")
    func addAndDelete() async throws {
        try await Lab.with { lab in
            let namespace = try Self.table(lab)
            var hosts = NftablesElementList()
            hosts.append(key: Self.host(Self.ipv4(10, 1, 2, 3), 6, 8080), timeoutMs: 60_000)
            hosts.append(key: Self.host(Self.ipv4(10, 1, 2, 4), 17, 53))
            // "wg*" (a wildcard) . ::/0 . 2001:db8::/32 . udp . 53
            var low = NftablesKey()
            var high = NftablesKey()
            low.append(interface: "wg")
            high.append(interface: "wg", padding: 0xff)
            low.append(address: 0, width: 16)
            high.append(address: .max, width: 16)
            low.append(address: UInt128(0x2001_0db8) << 96, width: 16)
            high.append(address: UInt128(0x2001_0db8) << 96 | (UInt128(1) << 96 - 1), width: 16)
            low.append(byte: 17)
            high.append(byte: 17)
            low.append(port: 53)
            high.append(port: 53)
            var boxes = NftablesElementList()
            boxes.append(key: low, keyEnd: high, timeoutMs: 30_000)
            var gone = NftablesElementList()
            gone.append(key: Self.host(Self.ipv4(10, 9, 9, 9), 6, 22))

            var transaction = NftablesElementTransaction(family: .inet, table: "t")
            transaction.add(hosts, to: "src")
            transaction.add(boxes, to: "box")
            transaction.delete(gone, from: "src")
            #expect(transaction.elementCount == 4)
            try NftablesConnection(namespace: .named(namespace)).commit(transaction)

            let listing = try Self.nft(namespace, "list", "table", "inet", "t")
            #expect(listing.contains("10.1.2.3 . tcp . 8080 timeout 1m expires"), "\(listing)")
            #expect(listing.contains("10.1.2.4 . udp . 53"))
            #expect(listing.contains("\"wg*\" . ::/0 . 2001:db8::/32 . udp . 53 timeout 30s expires"), "\(listing)")
            #expect(!listing.contains("10.9.9.9"), "deleted in the same transaction")
            // The kernel's own dump gives back the bytes sent.
            let dumped = try NftablesRules(namespace: .named(namespace)).setElements(
                family: .inet, table: "t", set: "box")
            #expect(dumped.map(\.key) == [low.bytes] && dumped.map(\.keyEnd) == [high.bytes])
        }
    }

    @Test(
        "a part the kernel refuses (no such set, no such element to delete) fails the whole and names it",
        arguments: ["missing set", "missing element"])
    func allOrNothing(failure: String) async throws {
        try await Lab.with { lab in
            let namespace = try Self.table(lab)
            let before = try Self.nft(namespace, "list", "ruleset")
            var hosts = NftablesElementList()
            hosts.append(key: Self.host(Self.ipv4(10, 1, 2, 3), 6, 8080), timeoutMs: 60_000)
            var transaction = NftablesElementTransaction(family: .inet, table: "t")
            transaction.add(hosts, to: "src")
            var other = NftablesElementList()
            other.append(key: Self.host(Self.ipv4(10, 7, 7, 7), 6, 7))
            if failure == "missing set" {
                transaction.add(other, to: "nope")
            } else {
                transaction.delete(other, from: "src")
            }
            let connection = NftablesConnection(namespace: .named(namespace))
            let error = #expect(throws: NetlinkError.self) { try connection.commit(transaction) }
            #expect(error?.errno == ENOENT)
            #expect(
                error?.operation
                    == (failure == "missing set"
                        ? "add 1 elements to set nope of table t" : "delete 1 elements from set src of table t"))
            #expect(try Self.nft(namespace, "list", "ruleset") == before, "the additions beside it were not applied")
            // The connection goes on after a refusal.
            var alone = NftablesElementTransaction(family: .inet, table: "t")
            alone.add(hosts, to: "src")
            try connection.commit(alone)
            #expect(try Self.nft(namespace, "list", "set", "inet", "t", "src").contains("10.1.2.3 . tcp . 8080"))
        }
    }

    @Test("20,000 elements (many messages) arrive whole; adding them again with their timeout keeps every timer")
    func manyMessagesAndTimers() async throws {
        try await Lab.with { lab in
            let namespace = try Self.table(lab)
            let timeoutMs: UInt64 = 3_600_000
            var list = NftablesElementList()
            for index in 0..<20_000 {
                list.append(key: Self.host(Self.ipv4(10, 100, 0, 0) + UInt32(index), 6, 443), timeoutMs: timeoutMs)
            }
            var transaction = NftablesElementTransaction(family: .inet, table: "t")
            transaction.add(list, to: "src")
            #expect(transaction.decoded().count > 10)
            try NftablesConnection(namespace: .named(namespace)).commit(transaction)
            let reader = NftablesRules(namespace: .named(namespace))
            let added = try reader.setElements(family: .inet, table: "t", set: "src")
            #expect(added.count == 20_001)
            #expect(added.filter { $0.timeoutMs == timeoutMs }.count == 20_000)
            // Once two seconds have run off every timer, the same elements go in again: a timer
            // restarted by it would show a full hour again.
            let ran = Poll.until(seconds: 10) {
                let elements = (try? reader.setElements(family: .inet, table: "t", set: "src")) ?? []
                return elements.compactMap(\.expiresMs).max().map { $0 <= timeoutMs - 2_000 } ?? false
            }
            #expect(ran, "the timers run")
            try NftablesConnection(namespace: .named(namespace)).commit(transaction)
            let again = try reader.setElements(family: .inet, table: "t", set: "src")
            #expect(again.count == 20_001)
            let remaining = again.compactMap(\.expiresMs)
            #expect(
                remaining.count == 20_000 && remaining.allSatisfy { $0 <= timeoutMs - 2_000 }, "\(remaining.max() ?? 0)"
            )
        }
    }
}
