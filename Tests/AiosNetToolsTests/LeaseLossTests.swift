import Testing

@testable import AiosNetTools

@Suite("lease losses: the fallback once per loss, and only after a lease")
struct LeaseLossTests {
    /// Feeds `events` (interface, reason) in order; returns which start a renew-then-fallback.
    static func handled(_ events: [(String, String)]) -> [Bool] {
        var losses = LeaseLosses()
        return events.map { interface, reason in
            losses.shouldHandle(DHCPEvent(interface: interface, reason: reason, variables: [:]))
        }
    }

    @Test("NOCARRIER, EXPIRE, EXPIRE for one loss count once; a lease in between makes the next a new loss")
    func oncePerLoss() {
        let events = [
            ("eth0", "BOUND"), ("eth0", "NOCARRIER"), ("eth0", "EXPIRE"), ("eth0", "EXPIRE"), ("eth0", "REBOOT"),
            ("eth0", "EXPIRE"),
        ]
        #expect(Self.handled(events) == [false, true, false, false, false, true])
    }

    @Test("a report before any lease is no loss: dhcpcd starting on a link without carrier, a failed first try")
    func beforeAnyLease() {
        #expect(
            Self.handled([("eth0", "NOCARRIER"), ("eth0", "FAIL"), ("eth1", "BOUND"), ("eth0", "EXPIRE")]) == [
                false, false, false, false,
            ])
    }

    @Test(
        "stopping dhcpcd on purpose, or a lease arriving, is no loss",
        arguments: ["STOP", "STOPPED", "BOUND", "RENEW", "PREINIT", "CARRIER"])
    func notLosses(reason: String) {
        #expect(Self.handled([("eth0", "BOUND"), ("eth0", reason)]) == [false, false])
    }
}
