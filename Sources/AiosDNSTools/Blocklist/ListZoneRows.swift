import AiosCore
import AiosStore

/// The zones attributed to each list in SQLite (`dns_list_zones`: which list blocks a name),
/// written after a call's answer: a million rows took seconds, and the answer needs none of them
/// (the zone files on disk and the resolver hold the content). Readers of the attribution flush
/// first, so none sees it behind; a crash before the write is repaired at the next start from
/// the zone files (`repair`).
actor ListZoneRows {
    let store: Store
    let paths: DNSPaths
    private var pending: [(list: String, added: [String], removed: [String])] = []
    private let writing = AsyncLock()

    /// Rows per transaction: one holds SQLite's write lock briefly, and that is the longest
    /// any other write (a `dns.block`) waits behind the rows.
    static let chunk = 5_000

    init(store: Store, paths: DNSPaths) {
        self.store = store
        self.paths = paths
    }

    /// Notes rows to write (in order with the others noted).
    func schedule(list: String, added: [String], removed: [String]) {
        guard !added.isEmpty || !removed.isEmpty else { return }
        pending.append((list, added, removed))
    }

    /// Writes every noted change, in order.
    func flush() async throws {
        try await writing.withLock {
            while !pending.isEmpty {
                let next = pending.removeFirst()
                // In transactions of `chunk` rows: a million in one held SQLite's write lock for
                // seconds, and every other write (a `dns.block`) waited behind it.
                for start in stride(from: 0, to: next.removed.count, by: Self.chunk) {
                    let part = Array(next.removed[start..<min(next.removed.count, start + Self.chunk)])
                    try await store.saveListZones(next.list, added: [], removed: part)
                }
                for start in stride(from: 0, to: next.added.count, by: Self.chunk) {
                    let part = Array(next.added[start..<min(next.added.count, start + Self.chunk)])
                    try await store.saveListZones(next.list, added: part, removed: [])
                }
            }
        }
    }

    /// At start: a list whose attributed zones do not number its zone count (the daemon died
    /// before writing them) gets them again from its zone file.
    func repair() async throws {
        try await writing.withLock {
            for list in try await store.blocklists() where try await store.listZoneCount(list.name) != list.zoneCount {
                try await store.replaceListZones(list.name, zones: ZoneFiles.readZones(paths.zones(list.name)))
            }
        }
    }
}
