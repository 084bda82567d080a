import AiosCore
import GRDB
import GRDBSQLite
import Synchronization

/// A second connection to the database, for audit rows only, written on the caller's own thread
/// when it can be done without waiting.
///
/// Every call writes one audit row. Through the pool's writer that row costs two thread wake-ups
/// (to the writer's queue and back to the caller), which on this VM are most of its cost. Here the
/// insert never waits for anything: `busy_timeout` is 0, so a write lock held elsewhere (a 100k
/// batch's rows) answers `SQLITE_BUSY` at once and the row goes through the writer instead; a row
/// another caller is writing here also sends this one to the writer; and this connection never
/// checkpoints (`wal_autocheckpoint = 0`). Every `writerEvery`-th row goes through the writer all
/// the same, whose commits keep checkpointing the WAL as before. Either way the row is committed
/// when `record` returns.
final class AuditConnection: Sendable {
    private struct Handle {
        let connection: OpaquePointer
        let insert: OpaquePointer
    }

    private let handle: Mutex<Handle?>
    private let written = Atomic<Int>(0)
    private let committed = Atomic<Int>(0)

    /// Rows committed here (the rest went through the writer).
    var insertedHere: Int { committed.load(ordering: .relaxed) }

    /// One row in this many goes through the writer (its commit checkpoints the WAL).
    static let writerEvery = 128

    static let sql = """
        INSERT INTO events (ts_ms, kind, call_id, origin, tool, input, decision, reason, result, error_code,
            error_message, duration_us, detail, subject) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """

    /// Opens `path` (already created and migrated by the pool); nil-backed when that fails, in
    /// which case every row takes the writer's path.
    init(path: String) {
        var connection: OpaquePointer?
        var insert: OpaquePointer?
        let opened =
            sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK
            && sqlite3_exec(connection, "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0", nil, nil, nil)
                == SQLITE_OK
            && sqlite3_prepare_v3(connection, Self.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &insert, nil)
                == SQLITE_OK
        if opened, let connection, let insert {
            handle = Mutex(Handle(connection: connection, insert: insert))
        } else {
            sqlite3_finalize(insert)
            sqlite3_close_v2(connection)
            handle = Mutex(nil)
        }
    }

    deinit {
        handle.withLock { handle in
            guard let handle else { return }
            sqlite3_finalize(handle.insert)
            sqlite3_close_v2(handle.connection)
        }
    }

    /// Commits `event` now if nothing has to be waited for.
    /// - Returns: false when the row must go through the writer instead (nothing was written).
    /// - Throws: the insert's error (a full disk, a broken file); the caller then tries the writer.
    func insertWithoutWaiting(_ event: AuditEvent) throws -> Bool {
        guard written.wrappingAdd(1, ordering: .relaxed).newValue % Self.writerEvery != 0 else { return false }
        let inserted = try handle.withLockIfAvailable { handle throws -> Bool in
            guard let handle else { return false }
            let row = SQLiteRow(statement: handle.insert, connection: handle.connection, sql: Self.sql)
            try row.bind(1, event.timestampMs)
            try row.bind(2, event.kind)
            try row.bind(3, event.callID)
            try row.bind(4, event.origin)
            try row.bind(5, event.tool)
            try row.bind(6, event.input)
            try row.bind(7, event.decision)
            try row.bind(8, event.reason)
            try row.bind(9, event.result)
            try row.bind(10, event.errorCode)
            try row.bind(11, event.errorMessage)
            try row.bind(12, event.durationMicros)
            try row.bind(13, event.detail)
            try row.bind(14, event.subject)
            return try row.stepUnlessBusy()
        }
        if inserted == true { committed.add(1, ordering: .relaxed) }
        return inserted ?? false
    }
}
