import AiosCore
import AiosStore
import Foundation
import Testing

@testable import AiosDNSTools

@Suite("which list blocks a zone is written after the answer, and never lost")
struct ListZoneRowsTests {
    /// A store and a data directory of the test's own (removed by `tearDown`).
    static func setUp() throws -> (Store, DNSPaths, [String]) {
        let store = try Store.temporary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-rows-\(UUID().uuidString)")
        let paths = DNSPaths(dataDirectory: directory.path)
        try paths.ensureDirectories()
        let zones = (0..<3000).map { "z\($0).rows.example" }
        try ZoneFiles.writeZones(zones, to: paths.zones("big"))
        return (store, paths, zones)
    }

    static func tearDown(_ paths: DNSPaths) {
        try? FileManager.default.removeItem(
            atPath: URL(fileURLWithPath: paths.directory).deletingLastPathComponent().path)
    }

    static func record(_ count: Int) -> BlocklistRecord {
        BlocklistRecord(
            name: "big", source: "/x", refreshMs: nil, origin: "user", createdMs: 1, fetchedMs: 1, uniqueCount: count,
            zoneCount: count, skipped: 0, report: [:], status: "active")
    }

    @Test("scheduled rows are in the store once flushed, and a reader that flushes sees them")
    func flushed() async throws {
        let (store, paths, zones) = try Self.setUp()
        defer { Self.tearDown(paths) }
        try await store.saveBlocklist(Self.record(zones.count), addedZones: [], removedZones: [], exceptions: [])
        let rows = ListZoneRows(store: store, paths: paths)
        await rows.schedule(list: "big", added: zones, removed: [])
        #expect(try await store.listZoneCount("big") == 0, "not written before the flush")
        try await rows.flush()
        #expect(try await store.listZoneCount("big") == zones.count)
        #expect(try await store.blocklistsListing(["z7.rows.example"]).map(\.list) == ["big"])
    }

    @Test("rows a crash kept from being written are rebuilt from the zone file at the next start")
    func repaired() async throws {
        let (store, paths, zones) = try Self.setUp()
        defer { Self.tearDown(paths) }
        try await store.saveBlocklist(Self.record(zones.count), addedZones: [], removedZones: [], exceptions: [])
        let dying = ListZoneRows(store: store, paths: paths)
        await dying.schedule(list: "big", added: zones, removed: [])
        // The daemon dies here: nothing flushed. The next start's writer repairs.
        let next = ListZoneRows(store: store, paths: paths)
        try await next.repair()
        #expect(try await store.listZoneCount("big") == zones.count)
        #expect(try await store.blocklistsListing(["z2999.rows.example"]).map(\.list) == ["big"])
    }
}
