public import AiosCore
import GRDB

extension Store: AuditSink {
    /// Appends one audit event; committed when it returns.
    public func record(_ event: AuditEvent) async throws {
        // Written here when nothing has to be waited for; otherwise, or when that connection
        // fails, through the writer (whose error, if it fails too, is the one thrown).
        if (try? auditConnection.insertWithoutWaiting(event)) == true { return }
        let row = event
        // One statement, its own transaction (autocommit), prepared once: every call writes one.
        try await pool.writeWithoutTransaction { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO events (ts_ms, kind, call_id, origin, tool, input, decision, reason, result, error_code,
                        error_message, duration_us, detail, subject) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """
            ).execute(
                arguments: [
                    row.timestampMs, row.kind, row.callID, row.origin, row.tool, row.input, row.decision, row.reason,
                    row.result, row.errorCode, row.errorMessage, row.durationMicros, row.detail,
                    row.subject,
                ])
        }
    }

    /// Reads the audit trail, newest first.
    public func events(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await pool.read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let tool = query.tool {
                clauses.append("tool = ?")
                _ = arguments.append(contentsOf: [tool])
            }
            if let origin = query.origin {
                clauses.append("origin = ?")
                _ = arguments.append(contentsOf: [origin])
            }
            if let subject = query.subject {
                clauses.append("subject = ?")
                _ = arguments.append(contentsOf: [subject])
            }
            if let since = query.sinceMs {
                clauses.append("ts_ms >= ?")
                _ = arguments.append(contentsOf: [since])
            }
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [max(1, query.limit)])
            return try Row.fetchAll(
                db, sql: "SELECT * FROM events \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments
            )
            .map(Self.decodeEvent)
        }
    }

    private static func decodeEvent(_ row: Row) -> AuditEvent {
        AuditEvent(
            id: row["id"], timestampMs: row["ts_ms"], kind: row["kind"], callID: row["call_id"], origin: row["origin"],
            tool: row["tool"], input: row["input"], decision: row["decision"], reason: row["reason"],
            result: row["result"],
            errorCode: row["error_code"], errorMessage: row["error_message"], durationMicros: row["duration_us"],
            detail: row["detail"], subject: row["subject"])
    }
}
