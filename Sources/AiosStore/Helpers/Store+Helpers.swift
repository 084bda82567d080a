import Foundation
import GRDB

/// A helper process the daemon started (unbound, dhcpcd, wireguard-go): what is needed to find it
/// again after a daemon restart, and to be sure it is the same process.
public struct HelperRecord: Sendable, Codable, Hashable {
    /// Its role (`unbound`, `dhcpcd:eth0`, `wireguard-go:wg0`).
    public var name: String
    /// Its PID.
    public var pid: Int32
    /// Its start time in clock ticks since boot: PID plus this names one process for good.
    public var startTicks: UInt64
    /// The command line it was started with.
    public var command: String
    /// A digest of its configuration, so a changed configuration restarts it.
    public var fingerprint: String?
    /// When it was started, epoch ms.
    public var startedMs: Int64

    /// Creates a record.
    public init(name: String, pid: Int32, startTicks: UInt64, command: String, fingerprint: String?, startedMs: Int64) {
        self.name = name
        self.pid = pid
        self.startTicks = startTicks
        self.command = command
        self.fingerprint = fingerprint
        self.startedMs = startedMs
    }
}

extension Store {
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
