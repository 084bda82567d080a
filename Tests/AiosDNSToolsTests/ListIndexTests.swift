import Testing

@testable import AiosDNSTools

@Suite("a list's index gives what a full parse of the new content gives")
struct ListIndexTests {
    /// Lines of every kind the parser treats differently: hosts lines with one and two names,
    /// repeats, parents and children, exceptions, local names, skipped lines, comments.
    static let pool = [
        "0.0.0.0 ads.example", "127.0.0.1 ads.example", "0.0.0.0 x.ads.example", "ads.example",
        "0.0.0.0 tracker.example a.tracker.example", "||cdn.example^", "@@||ok.ads.example^", "b.example",
        "c.b.example", "0.0.0.0 localhost", "not a name!", "# a comment", "", "||path.example/ads.js",
        "0.0.0.0 d.c.b.example", "*.wild.example", "sub.wild.example", "0.0.0.0 bad_name!.example ok.example",
        "address=/dm.example/0.0.0.0", "@@||cdn.example^",
    ]

    static func document(_ generator: inout SplitMix) -> [UInt8] {
        let count = Int(generator.next() % 24)
        let lines = (0..<count).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }
        return Array(lines.joined(separator: "\n").utf8)
    }

    @Test("300 random contents in a row: names, zones, counts and skipped lines as a full parse", arguments: 0..<4)
    func randomUpdates(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed) &+ 11)
        var content = Self.document(&generator)
        var parsed = BlocklistParser.parse(content)
        let index = ListIndex(content: content, parsed: parsed, zones: ZoneSet.minimal(parsed.names))
        for _ in 0..<300 {
            content = Self.document(&generator)
            let update = index.update(to: content)
            let expected = BlocklistParser.parse(content)
            let expectedZones = ZoneSet.minimal(expected.names)
            let oldZones = ZoneSet.minimal(parsed.names)
            #expect(Set(update.addedZones) == expectedZones.subtracting(oldZones))
            #expect(Set(update.removedZones) == oldZones.subtracting(expectedZones))
            #expect(update.addedNames == expected.names.subtracting(parsed.names))
            #expect(update.removedNames == parsed.names.subtracting(expected.names))
            #expect(update.addedExceptions == expected.exceptions.subtracting(parsed.exceptions))
            #expect(update.removedExceptions == parsed.exceptions.subtracting(expected.exceptions))
            #expect(update.unique == expected.names.count)
            #expect(update.zoneCount == expectedZones.count)
            #expect(update.exceptionCount == expected.exceptions.count)
            #expect(update.skipped == expected.skipped)
            #expect(update.skippedExamples == expected.skippedExamples)
            #expect(update.localNames == expected.localNames)
            #expect(update.lines == expected.lines)
            index.apply(update)
            #expect(index.names == expected.names)
            #expect(index.zones == expectedZones)
            #expect(index.exceptions == expected.exceptions)
            parsed = expected
        }
    }
}
