public import AiosCore
import Foundation
import GRDB

extension Store {
    /// The firewall's management intent (`{"subnets": [...], "ports": [...]}`), written by
    /// `firewall.apply_default`; other modules read the subnets from it (routes into them are
    /// guarded).
    public static let managementIntentSetting = "firewall.default"

    /// The JSON value stored under `key` (a module's persisted intent), or nil.
    public func setting(_ key: String) async throws -> JSONValue? {
        let text = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        }
        return try text.map { try JSONValue(parsing: $0) }
    }

    /// Stores `value` under `key`, replacing what was there; committed when it returns.
    public func setSetting(_ key: String, _ value: JSONValue) async throws {
        try await pool.write { db in try Self.setSetting(key, value, in: db) }
    }

    /// `setSetting(_:_:)` inside a transaction already open.
    static func setSetting(_ key: String, _ value: JSONValue, in db: Database) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try db.execute(
            sql:
                "INSERT INTO settings (key, value, updated_ms) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
            arguments: [key, value.jsonText, now])
    }

    /// Every key starting with `prefix`, with its value, in key order.
    public func settings(prefix: String) async throws -> [(key: String, value: JSONValue)] {
        let rows: [(String, String)] = try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key",
                arguments: [prefix.utf8.count, prefix]
            ).map { ($0["key"], $0["value"]) }
        }
        return try rows.map { (key: $0.0, value: try JSONValue(parsing: $0.1)) }
    }

    /// Removes the value under `key` (no error when there is none).
    public func removeSetting(_ key: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key]) }
    }
}
