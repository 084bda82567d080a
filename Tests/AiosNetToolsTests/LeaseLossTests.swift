import Testing

@testable import AiosNetTools

@Suite("lease losses: the fallback once per loss")
struct LeaseLossTests {
    /// Feeds `events` (interface, reason) in order, noting a fallback after each one handled when
    /// `fallback` says so; returns which were handled.
    static func handled(_ events: [(String, String)], fallback: Bool = true) -> [Bool] {
        var losses = LeaseLosses()
        return events.map { interface, reason in
            let handle = losses.shouldHandle(DHCPEvent(interface: interface, reason: reason, variables: [:]))
            if handle && fallback { losses.fellBack(interface) }
            return handle
        }
    }

    @Test("NOCARRIER, EXPIRE, EXPIRE for one loss run the fallback once; a lease in between re-arms it")
    func oncePerLoss() {
        let events = [
            ("eth0", "NOCARRIER"), ("eth0", "EXPIRE"), ("eth0", "EXPIRE"), ("eth1", "EXPIRE"), ("eth0", "BOUND"),
            ("eth0", "EXPIRE"),
        ]
        #expect(Self.handled(events) == [true, false, false, true, false, true])
    }

    @Test("a renewal that brought the lease back does not suppress the next loss")
    func renewedLoss() {
        #expect(Self.handled([("eth0", "EXPIRE"), ("eth0", "NAK")], fallback: false) == [true, true])
    }

    @Test(
        "stopping dhcpcd on purpose, or a lease arriving, is no loss",
        arguments: ["STOP", "STOPPED", "BOUND", "RENEW", "PREINIT", "CARRIER"])
    func notLosses(reason: String) {
        #expect(Self.handled([("eth0", reason)]) == [false])
    }
}
