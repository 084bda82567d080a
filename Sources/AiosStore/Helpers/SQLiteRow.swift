import GRDB
import GRDBSQLite

/// One prepared statement's parameters, bound and stepped with SQLite's C calls (text is copied
/// by SQLite, so the Swift strings need not outlive the call).
struct SQLiteRow {
    let statement: OpaquePointer
    let connection: OpaquePointer
    let sql: String

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ text: String?) throws {
        guard let text else { return try check(sqlite3_bind_null(statement, index)) }
        try check(
            text.withCString { sqlite3_bind_text(statement, index, $0, Int32(text.utf8.count), Self.transient) })
    }

    /// Binds UTF-8 bytes as text (copied by SQLite).
    func bind(_ index: Int32, bytes: [UInt8]) throws {
        try check(
            bytes.withUnsafeBufferPointer { buffer in
                sqlite3_bind_text(
                    statement, index,
                    buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                    Int32(buffer.count), Self.transient)
            })
    }

    func bind(_ index: Int32, _ number: Int64?) throws {
        guard let number else { return try check(sqlite3_bind_null(statement, index)) }
        try check(sqlite3_bind_int64(statement, index, number))
    }

    /// Runs the statement once (it must finish: an INSERT) and resets it for the next row.
    func step() throws {
        let code = sqlite3_step(statement)
        defer { sqlite3_reset(statement) }
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// Runs the statement once, like `step()`, unless another connection holds the write lock.
    /// - Returns: false when it did (SQLITE_BUSY: nothing was written).
    func stepUnlessBusy() throws -> Bool {
        let code = sqlite3_step(statement)
        defer { sqlite3_reset(statement) }
        if code == SQLITE_BUSY || code == SQLITE_LOCKED { return false }
        guard code == SQLITE_DONE else { throw error(code) }
        return true
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw error(code) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}
