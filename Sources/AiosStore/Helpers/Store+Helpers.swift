public import AiosLinux
import Foundation
import GRDB

extension Store: HelperLedger {
    /// The helper recorded under `name`, or nil.
    public func helper(_ name: String) async throws -> HelperRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM helpers WHERE name = ?", arguments: [name]).map(Self.decodeHelper)
        }
    }

    /// Every recorded helper.
    public func helpers() async throws -> [HelperRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM helpers ORDER BY name").map(Self.decodeHelper)
        }
    }

    /// Records (or replaces) a helper; committed when it returns.
    public func saveHelper(_ record: HelperRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO helpers (name, pid, start_ticks, command, fingerprint, started_ms) VALUES (?,?,?,?,?,?)
                    ON CONFLICT(name) DO UPDATE SET pid = excluded.pid, start_ticks = excluded.start_ticks,
                    command = excluded.command, fingerprint = excluded.fingerprint, started_ms = excluded.started_ms
                    """,
                arguments: [
                    record.name, Int64(record.pid), Int64(bitPattern: record.startTicks), record.command,
                    record.fingerprint, record.startedMs,
                ])
        }
    }

    /// Forgets a helper.
    public func deleteHelper(_ name: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM helpers WHERE name = ?", arguments: [name]) }
    }

    private static func decodeHelper(_ row: Row) -> HelperRecord {
        HelperRecord(
            name: row["name"], pid: Int32(truncatingIfNeeded: row["pid"] as Int64),
            startTicks: UInt64(bitPattern: row["start_ticks"] as Int64), command: row["command"],
            fingerprint: row["fingerprint"], startedMs: row["started_ms"])
    }
}
