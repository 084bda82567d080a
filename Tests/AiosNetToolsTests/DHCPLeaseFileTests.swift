import Testing

@testable import AiosNetTools

@Suite("dhcpcd's lease file read as the hook's BOUND event would report it")
struct DHCPLeaseFileTests {
    /// A DHCPACK as dhcpcd 9 kept it (captured from dnsmasq in a lab namespace): 10.66.0.150/24,
    /// router and DNS 10.66.0.1, lease 3600 s, server 10.66.0.1.
    static let ack: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 236)
        bytes[0] = 2
        bytes[1] = 1
        bytes[2] = 6
        bytes[16..<20] = [10, 66, 0, 150]
        bytes[20..<24] = [10, 66, 0, 1]
        bytes += [99, 130, 83, 99]
        bytes += [53, 1, 5, 54, 4, 10, 66, 0, 1, 51, 4, 0, 0, 14, 16, 58, 4, 0, 0, 7, 8, 59, 4, 0, 0, 12, 78]
        bytes += [1, 4, 255, 255, 255, 0, 28, 4, 10, 66, 0, 255, 6, 4, 10, 66, 0, 1, 3, 4, 10, 66, 0, 1, 255, 0, 0]
        return bytes
    }()

    @Test("address, prefix, routers, DNS, lease time and server come out under the hook's names")
    func parsed() throws {
        let event = try #require(DHCPLeaseFile.event(Self.ack, interface: "dh0"))
        #expect(event.reason == "BOUND" && event.interface == "dh0")
        #expect(event.address == "10.66.0.150" && event.prefixLength == 24)
        #expect(event.routers == ["10.66.0.1"] && event.dnsServers == ["10.66.0.1"])
        #expect(event.leaseSeconds == 3600)
        #expect(event.variables["new_dhcp_server_identifier"] == "10.66.0.1")
    }

    @Test(
        "anything else is no lease", arguments: [[UInt8](), [UInt8](repeating: 0, count: 300), Array(ack.prefix(239))])
    func notALease(bytes: [UInt8]) {
        #expect(DHCPLeaseFile.event(bytes, interface: "dh0") == nil)
    }

    @Test("a truncated option ends the reading without a crash")
    func truncated() {
        var bytes = Self.ack.prefix(240) + [3, 8, 10, 66]
        bytes += []
        #expect(DHCPLeaseFile.event(Array(bytes), interface: "dh0")?.routers == [])
    }
}
