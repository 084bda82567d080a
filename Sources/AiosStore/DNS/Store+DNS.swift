public import AiosCore
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// A blocklist as configured and as last ingested.
public struct BlocklistRecord: Sendable, Codable, Hashable {
    /// Its name.
    public var name: String
    /// A file path or an `https://` URL.
    public var source: String
    /// How often to refresh it, ms; nil = never by itself.
    public var refreshMs: Int64?
    /// Who added it.
    public var origin: String
    /// When, epoch ms.
    public var createdMs: Int64
    /// When its content was last read (file or download), epoch ms.
    public var fetchedMs: Int64?
    /// Valid unique names.
    public var uniqueCount: Int
    /// Zones after dropping names covered by a listed parent.
    public var zoneCount: Int
    /// Skipped lines.
    public var skipped: Int
    /// The last ingest's report (skipped examples, exceptions, cache use) as JSON.
    public var report: JSONValue
    /// `active`, or the reason the last refresh failed (the previous content stays active).
    public var status: String

    /// Creates a record.
    public init(
        name: String, source: String, refreshMs: Int64?, origin: String, createdMs: Int64, fetchedMs: Int64?,
        uniqueCount: Int, zoneCount: Int, skipped: Int, report: JSONValue, status: String
    ) {
        self.name = name
        self.source = source
        self.refreshMs = refreshMs
        self.origin = origin
        self.createdMs = createdMs
        self.fetchedMs = fetchedMs
        self.uniqueCount = uniqueCount
        self.zoneCount = zoneCount
        self.skipped = skipped
        self.report = report
        self.status = status
    }
}

/// A single name blocked or allowed (`dns.block`, `dns.allow`, a list's `@@` exceptions).
public struct DNSNameRecord: Sendable, Codable, Hashable {
    public var name: String
    /// `block` or `allow`.
    public var kind: String
    /// `dns.block`, `dns.allow`, or the list whose exception it is.
    public var source: String
    public var origin: String
    public var comment: String?
    public var createdMs: Int64

    /// Creates a record.
    public init(name: String, kind: String, source: String, origin: String, comment: String?, createdMs: Int64) {
        self.name = name
        self.kind = kind
        self.source = source
        self.origin = origin
        self.comment = comment
        self.createdMs = createdMs
    }
}

/// A local record: a host name answered with these addresses.
public struct DNSLocalRecord: Sendable, Codable, Hashable {
    public var name: String
    public var addresses: [String]
    public var ttl: Int
    public var origin: String
    public var createdMs: Int64

    /// Creates a record.
    public init(name: String, addresses: [String], ttl: Int, origin: String, createdMs: Int64) {
        self.name = name
        self.addresses = addresses
        self.ttl = ttl
        self.origin = origin
        self.createdMs = createdMs
    }
}

extension Store {
    /// Every blocklist, by name.
    public func blocklists() async throws -> [BlocklistRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dns_blocklists ORDER BY name").map(Self.decodeBlocklist)
        }
    }

    /// The blocklist named `name`, or nil.
    public func blocklist(named name: String) async throws -> BlocklistRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dns_blocklists WHERE name = ?", arguments: [name]).map(
                Self.decodeBlocklist)
        }
    }

    /// Saves a blocklist and makes `zones` its attributed zones (only the difference is written),
    /// with its `@@` exceptions, in one transaction.
    public func saveBlocklist(
        _ record: BlocklistRecord, addedZones: [String], removedZones: [String], exceptions: [String]
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO dns_blocklists (name, source, refresh_ms, origin, created_ms, fetched_ms, unique_count,
                        zone_count, skipped, report, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT(name) DO UPDATE SET source = excluded.source, refresh_ms = excluded.refresh_ms,
                    fetched_ms = excluded.fetched_ms, unique_count = excluded.unique_count,
                    zone_count = excluded.zone_count, skipped = excluded.skipped, report = excluded.report,
                    status = excluded.status
                    """,
                arguments: [
                    record.name, record.source, record.refreshMs, record.origin, record.createdMs, record.fetchedMs,
                    record.uniqueCount, record.zoneCount, record.skipped, record.report.jsonText, record.status,
                ])
            // One statement per direction, the zones as one JSON array: a million single-row
            // statements from Swift took seconds, nearly all of it per-statement overhead.
            if !removedZones.isEmpty {
                try db.execute(
                    sql:
                        "DELETE FROM dns_list_zones WHERE list = ? AND zone IN (SELECT value FROM json_each(?))",
                    arguments: [record.name, Self.jsonArray(removedZones)])
            }
            if !addedZones.isEmpty {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO dns_list_zones (zone, list) SELECT value, ? FROM json_each(?)",
                    arguments: [record.name, Self.jsonArray(addedZones)])
            }
            try db.execute(
                sql: "DELETE FROM dns_names WHERE source = ? AND kind = 'allow'", arguments: [record.name])
            let exception = try db.makeStatement(
                sql:
                    "INSERT OR IGNORE INTO dns_names (name, kind, source, origin, created_ms) VALUES (?, 'allow', ?, ?, ?)"
            )
            for name in exceptions {
                try exception.execute(arguments: [name, record.name, record.origin, record.createdMs])
            }
        }
    }

    /// Adds and removes the zones attributed to list `name` (what `blocklistsListing` reads), one
    /// statement each way.
    ///
    /// Bulk work done after an answer: the writer's thread runs it at a lower priority (`nice`
    /// 10 for that thread, put back after), so that it yields the cores to the resolver's
    /// answers and to calls.
    public func saveListZones(_ name: String, added: [String], removed: [String]) async throws {
        guard !added.isEmpty || !removed.isEmpty else { return }
        try await pool.write { db in
            let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            defer { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, before) }
            if !removed.isEmpty {
                try db.execute(
                    sql:
                        "DELETE FROM dns_list_zones WHERE list = ? AND zone IN (SELECT value FROM json_each(?))",
                    arguments: [name, Self.jsonArray(removed)])
            }
            if !added.isEmpty {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO dns_list_zones (zone, list) SELECT value, ? FROM json_each(?)",
                    arguments: [name, Self.jsonArray(added)])
            }
        }
    }

    /// Makes the zones attributed to list `name` exactly `zones` (a repair after a crash).
    public func replaceListZones(_ name: String, zones: [String]) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dns_list_zones WHERE list = ?", arguments: [name])
            try db.execute(
                sql: "INSERT OR IGNORE INTO dns_list_zones (zone, list) SELECT value, ? FROM json_each(?)",
                arguments: [name, Self.jsonArray(zones)])
        }
    }

    /// How many zones are attributed to list `name`.
    public func listZoneCount(_ name: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dns_list_zones WHERE list = ?", arguments: [name]) ?? 0
        }
    }

    /// `names` as a JSON array of strings, written as bytes (a list holds a million).
    static func jsonArray(_ names: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(names.count * 24)
        for (index, name) in names.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in name.utf8 {
                // Zone names are letters, digits, `-`, `_` and dots; anything else is escaped.
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                    bytes.append(contentsOf: Array(String(format: "\\u%04x", byte).utf8))
                } else {
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Updates only a blocklist's status (a failed refresh keeps its content).
    public func setBlocklistStatus(_ name: String, status: String, report: JSONValue? = nil) async throws {
        try await pool.write { db in
            if let report {
                try db.execute(
                    sql: "UPDATE dns_blocklists SET status = ?, report = ? WHERE name = ?",
                    arguments: [status, report.jsonText, name])
            } else {
                try db.execute(sql: "UPDATE dns_blocklists SET status = ? WHERE name = ?", arguments: [status, name])
            }
        }
    }

    /// Deletes a blocklist, its zones and its exceptions.
    public func deleteBlocklist(named name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dns_list_zones WHERE list = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM dns_names WHERE source = ? AND kind = 'allow'", arguments: [name])
            try db.execute(sql: "DELETE FROM dns_blocklists WHERE name = ?", arguments: [name])
        }
    }

    /// The lists that list `zones` (any of them), as (zone, list) pairs.
    public func blocklistsListing(_ zones: [String]) async throws -> [(zone: String, list: String)] {
        guard !zones.isEmpty else { return [] }
        return try await pool.read { db in
            let marks = zones.map { _ in "?" }.joined(separator: ",")
            return try Row.fetchAll(
                db, sql: "SELECT zone, list FROM dns_list_zones WHERE zone IN (\(marks))",
                arguments: StatementArguments(zones)
            ).map { (zone: $0["zone"] as String, list: $0["list"] as String) }
        }
    }

    /// Single names of `kind` (`block` or `allow`), optionally only from `source`.
    public func dnsNames(kind: String, source: String? = nil) async throws -> [DNSNameRecord] {
        try await pool.read { db in
            let rows =
                if let source {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM dns_names WHERE kind = ? AND source = ? ORDER BY name",
                        arguments: [kind, source])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM dns_names WHERE kind = ? ORDER BY name", arguments: [kind])
                }
            return rows.map(Self.decodeName)
        }
    }

    /// The single-name entries that match any of `names`.
    public func dnsNames(matching names: [String]) async throws -> [DNSNameRecord] {
        guard !names.isEmpty else { return [] }
        return try await pool.read { db in
            let marks = names.map { _ in "?" }.joined(separator: ",")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM dns_names WHERE name IN (\(marks))", arguments: StatementArguments(names)
            ).map(Self.decodeName)
        }
    }

    /// Adds single-name entries (existing ones are kept).
    public func addDNSNames(_ records: [DNSNameRecord]) async throws {
        try await pool.write { db in
            let statement = try db.makeStatement(
                sql:
                    "INSERT OR IGNORE INTO dns_names (name, kind, source, origin, comment, created_ms) VALUES (?,?,?,?,?,?)"
            )
            for record in records {
                try statement.execute(arguments: [
                    record.name, record.kind, record.source, record.origin, record.comment, record.createdMs,
                ])
            }
        }
    }

    /// Removes single-name entries of `kind` from `source`; returns how many went.
    @discardableResult
    public func removeDNSNames(_ names: [String], kind: String, source: String) async throws -> Int {
        try await pool.write { db in
            var removed = 0
            let statement = try db.makeStatement(
                sql: "DELETE FROM dns_names WHERE name = ? AND kind = ? AND source = ?")
            for name in names {
                try statement.execute(arguments: [name, kind, source])
                removed += db.changesCount
            }
            return removed
        }
    }

    /// Every local record, by name.
    public func dnsRecords() async throws -> [DNSLocalRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dns_records ORDER BY name").map { row in
                DNSLocalRecord(
                    name: row["name"], addresses: (try? JSONValue(parsing: row["addresses"] as String).decode()) ?? [],
                    ttl: row["ttl"], origin: row["origin"], createdMs: row["created_ms"])
            }
        }
    }

    /// Inserts or replaces local records.
    public func saveDNSRecords(_ records: [DNSLocalRecord]) async throws {
        try await pool.write { db in
            for record in records {
                try db.execute(
                    sql: """
                        INSERT INTO dns_records (name, addresses, ttl, origin, created_ms) VALUES (?,?,?,?,?)
                        ON CONFLICT(name) DO UPDATE SET addresses = excluded.addresses, ttl = excluded.ttl
                        """,
                    arguments: [
                        record.name, try JSONValue(encoding: record.addresses).jsonText, record.ttl, record.origin,
                        record.createdMs,
                    ])
            }
        }
    }

    /// Deletes local records by name; returns how many went.
    @discardableResult
    public func deleteDNSRecords(_ names: [String]) async throws -> Int {
        try await pool.write { db in
            var removed = 0
            for name in names {
                try db.execute(sql: "DELETE FROM dns_records WHERE name = ?", arguments: [name])
                removed += db.changesCount
            }
            return removed
        }
    }

    private static func decodeBlocklist(_ row: Row) throws -> BlocklistRecord {
        BlocklistRecord(
            name: row["name"], source: row["source"], refreshMs: row["refresh_ms"], origin: row["origin"],
            createdMs: row["created_ms"], fetchedMs: row["fetched_ms"], uniqueCount: row["unique_count"],
            zoneCount: row["zone_count"], skipped: row["skipped"],
            report: try JSONValue(parsing: row["report"] as String),
            status: row["status"])
    }

    private static func decodeName(_ row: Row) -> DNSNameRecord {
        DNSNameRecord(
            name: row["name"], kind: row["kind"], source: row["source"], origin: row["origin"],
            comment: row["comment"], createdMs: row["created_ms"])
    }
}
