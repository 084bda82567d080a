public import AiosCore
import Foundation
import GRDB

extension Store: GuardStore {
    /// Writes a new pending guard; committed when it returns.
    public func open(_ record: GuardRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO guards (id, call_id, tool, origin, inverse, probe, created_ms, deadline_ms, state, note, updated_ms)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    """,
                arguments: [
                    record.id, record.callID, record.tool, record.origin.rawValue, try Self.json(record.inverse),
                    try record.probe.map(Self.json), record.createdMs, record.deadlineMs, record.state.rawValue,
                    record.note,
                    record.createdMs,
                ])
        }
    }

    /// Moves a guard between states atomically; false when it was not in one of `from`.
    public func transition(id: String, from: Set<GuardState>, to: GuardState, note: String?) async throws -> Bool {
        let states = from.map(\.rawValue).sorted()
        let placeholders = states.map { _ in "?" }.joined(separator: ",")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await pool.write { db in
            var arguments: StatementArguments = [to.rawValue, note, now, id]
            _ = arguments.append(contentsOf: StatementArguments(states))
            try db.execute(
                sql:
                    "UPDATE guards SET state = ?, note = COALESCE(?, note), updated_ms = ? WHERE id = ? AND state IN (\(placeholders))",
                arguments: arguments)
            return db.changesCount > 0
        }
    }

    /// The guard with `id`, or nil.
    public func guardRecord(id: String) async throws -> GuardRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM guards WHERE id = ?", arguments: [id]).map(Self.decodeGuard)
        }
    }

    /// Guards still pending or rolling back, oldest first.
    public func openGuards() async throws -> [GuardRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM guards WHERE state IN ('pending', 'rolling_back') ORDER BY created_ms, id"
            ).map(Self.decodeGuard)
        }
    }

    /// The most recent guards, newest first.
    public func recentGuards(limit: Int = 20) async throws -> [GuardRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM guards ORDER BY created_ms DESC, id LIMIT ?", arguments: [limit])
                .map(Self.decodeGuard)
        }
    }

    private static func json(_ request: CallRequest) throws -> String {
        try JSONValue(encoding: request).jsonText
    }

    private static func decodeGuard(_ row: Row) throws -> GuardRecord {
        let inverseText: String = row["inverse"]
        let probeText: String? = row["probe"]
        let stateText: String = row["state"]
        guard let state = GuardState(rawValue: stateText) else {
            throw AiosError(.internal, "guard \(row["id"] as String? ?? "?") has unknown state \(stateText)")
        }
        return GuardRecord(
            id: row["id"], callID: row["call_id"], tool: row["tool"], origin: Origin(rawValue: row["origin"]),
            inverse: try JSONValue(parsing: inverseText).decode(),
            probe: try probeText.map { try JSONValue(parsing: $0).decode() },
            createdMs: row["created_ms"], deadlineMs: row["deadline_ms"], state: state, note: row["note"])
    }
}
