import AiosCore
import AiosStore
import AiosTesting
import Foundation
import Testing

@testable import AiosDNSTools

/// The blocked zones' sync, a list's change from its index and a single block, against a
/// resolver in memory: what unbound would hold after the commands, and the include file, both
/// equal to a full recompute — no root, no unbound.
@Suite("blocked zones against a fake resolver")
struct FakeResolverTests {
    struct Harness {
        let store: Store
        let paths: DNSPaths
        let resolver: FakeResolverControl
        let zones: BlockZones
        let directory: String

        init() throws {
            store = try Store.temporary()
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("aios-fakeres-\(UUID().uuidString)")
                .path
            paths = DNSPaths(dataDirectory: directory)
            try paths.ensureDirectories()
            resolver = FakeResolverControl(include: paths.blocklistInclude)
            zones = BlockZones(paths: paths, store: store, resolver: resolver)
        }

        func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

        /// Makes `text` list `name`'s active content, as the full path does, and indexes it.
        func load(_ name: String, _ text: String) async throws -> ZoneSyncReport {
            let bytes = Array(text.utf8)
            let parsed = BlocklistParser.parse(bytes)
            let minimal = ZoneSet.minimal(parsed.names)
            try ZoneFiles.writeZones(minimal, to: paths.zones(name))
            try await store.saveBlocklist(
                record(name, parsed: parsed, zones: minimal.count), addedZones: [], removedZones: [],
                exceptions: Array(parsed.exceptions))
            await zones.contentReplaced(name, content: bytes, parsed: parsed, zones: minimal)
            let report = try await zones.sync(DNSSettings())
            await zones.buildPendingIndexes()
            return report
        }

        func record(_ name: String, parsed: ParsedBlocklist, zones: Int) -> BlocklistRecord {
            BlocklistRecord(
                name: name, source: "/lists/\(name)", refreshMs: nil, origin: "user", createdMs: 1, fetchedMs: 1,
                uniqueCount: parsed.names.count, zoneCount: zones, skipped: parsed.skipped, report: [:],
                status: "active")
        }

        /// What a full recompute from `texts` (the lists) and the single names gives.
        func expected(_ texts: [String], blocked: Set<String> = [], allowed: Set<String> = []) -> [String: String] {
            var names = Set<String>()
            var exceptions = Set<String>()
            for text in texts {
                let parsed = BlocklistParser.parse(Array(text.utf8))
                names.formUnion(ZoneSet.minimal(parsed.names))
                exceptions.formUnion(parsed.exceptions)
            }
            let (block, transparent) = ZoneSet.effective(
                blocked: names.union(blocked), allowed: allowed.union(exceptions))
            var out: [String: String] = [:]
            for zone in block { out[zone] = "always_nxdomain" }
            for zone in transparent { out[zone] = "transparent" }
            return out
        }
    }

    static let first =
        "0.0.0.0 x.ads.example\ntracker.example\n" + (0..<300).map { "f\($0).filler.test" }.joined(separator: "\n")
    static let second =
        "ads.example\n0.0.0.0 x.ads.example\n@@||ok.ads.example^\n"
        + (100..<300).map { "f\($0).filler.test" }.joined(separator: "\n") + "\n"
        + (0..<50).map { "g\($0).filler.test" }.joined(separator: "\n")

    @Test("a list loads, changes from its index, and a single block lands: the fake holds a full recompute's zones")
    func listChangeAndBlock() async throws {
        let lab = try Harness()
        defer { lab.tearDown() }
        _ = try await lab.load("ads", Self.first)
        #expect(await lab.resolver.zones == lab.expected([Self.first]))
        #expect(FakeResolverControl.read(lab.paths.blocklistInclude) == lab.expected([Self.first]))

        let list = try #require(try await lab.store.blocklist(named: "ads"))
        let change = try await lab.zones.applyListChange(
            "ads", content: Array(Self.second.utf8), settings: DNSSettings(), check: { _ in },
            persist: { update in
                try await lab.store.saveBlocklist(
                    list, addedZones: [], removedZones: [], exceptions: Array(update.addedExceptions))
            }, progress: { _ in })
        let (update, report) = try #require(change)
        #expect(Set(update.removedZones).contains("tracker.example"))
        #expect(Set(update.removedZones).contains("x.ads.example"), "covered by its new parent")
        #expect(report.live && !report.replaced && report.batches > 0)
        let expected = lab.expected([Self.second])
        #expect(await lab.resolver.zones == expected)
        #expect(FakeResolverControl.read(lab.paths.blocklistInclude) == expected)
        #expect(expected["ok.ads.example"] == "transparent")

        try await lab.store.addDNSNames([
            DNSNameRecord(
                name: "cdn.example", kind: "block", source: "dns.block", origin: "user", comment: nil, createdMs: 2)
        ])
        let block = try await lab.zones.sync(DNSSettings())
        #expect(block.added == 1 && block.removed == 0)
        let withBlock = lab.expected([Self.second], blocked: ["cdn.example"])
        #expect(await lab.resolver.zones == withBlock)
        #expect(FakeResolverControl.read(lab.paths.blocklistInclude) == withBlock)
    }

    @Test("past 20,000 changes the running resolver is replaced, not sent batches")
    func bigChangeReplaces() async throws {
        let lab = try Harness()
        defer { lab.tearDown() }
        let big = (0..<20_500).map { "n\($0).big.test" }.joined(separator: "\n")
        let report = try await lab.load("big", big)
        #expect(report.replaced)
        #expect(await lab.resolver.replacements == 1)
        #expect(await lab.resolver.commands.isEmpty, "no batches")
        #expect(await lab.resolver.zones.count == 20_500)
    }
}
