import Testing

@testable import AiosDNSTools

@Suite("a few changed names give the same zones as recomputing them all")
struct ZoneDeltaTests {
    /// Zones as `ZoneSet.effective` makes them.
    static func full(_ blocked: Set<String>, _ allowed: Set<String>) -> [String: String] {
        let (block, transparent) = ZoneSet.effective(blocked: blocked, allowed: allowed)
        var out: [String: String] = [:]
        for zone in block { out[zone] = "always_nxdomain" }
        for zone in transparent { out[zone] = "transparent" }
        return out
    }

    static let names = [
        "ads.example", "x.ads.example", "y.x.ads.example", "tracker.example", "a.tracker.example", "cdn.example",
        "ok.ads.example", "b.example", "c.b.example", "d.c.b.example", "other.test", "deep.other.test",
    ]

    @Test("400 random steps of block, unblock, allow and list changes agree with a full recompute", arguments: 0..<5)
    func randomSteps(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed) &+ 7)
        var lists = Set(Self.names.filter { _ in generator.next() % 3 == 0 })
        var singles = Set<String>()
        var allowed = Set<String>()
        var desired = Self.full(lists.union(singles), allowed)
        for _ in 0..<400 {
            // One to three names change at once (a list's refresh changes many).
            var roots = Set<String>()
            for _ in 0...(generator.next() % 3) {
                let name = Self.names[Int(generator.next() % UInt64(Self.names.count))]
                roots.insert(name)
                switch generator.next() % 6 {
                case 0: singles.insert(name)
                case 1: singles.remove(name)
                case 2: allowed.insert(name)
                case 3: allowed.remove(name)
                case 4: lists.insert(name)
                default: lists.remove(name)
                }
            }
            let before = desired
            let blocked = lists.union(singles)
            let names = Array(roots) + ZoneDelta.below(roots, in: blocked.union(allowed))
            let (additions, removals, exceptionChange) = ZoneDelta.apply(
                to: &desired, names: names, isBlocked: { blocked.contains($0) }, isAllowed: { allowed.contains($0) },
                type: "always_nxdomain")
            let expected = Self.full(blocked, allowed)
            #expect(desired == expected, "after \(roots): \(desired) vs \(expected)")
            // The delta is exactly the difference the resolver needs.
            var replayed = before
            for zone in removals { replayed[zone] = nil }
            for (zone, type) in additions { replayed[zone] = type }
            #expect(replayed == expected)
            let exceptions = { (zones: [String: String]) in zones.values.filter { $0 == "transparent" }.count }
            #expect(exceptions(before) + exceptionChange == exceptions(expected))
        }
    }
}

/// A small seeded generator (tests must repeat).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
