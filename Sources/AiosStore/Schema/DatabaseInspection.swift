import Foundation
import GRDB

/// What `doctor` learns about a database without creating or changing it.
public struct DatabaseInspection: Sendable, Codable {
    /// The file checked.
    public var path: String
    /// The file exists.
    public var exists: Bool
    /// It opened as SQLite.
    public var opens: Bool
    /// The process may write it (file and directory).
    public var writable: Bool
    /// `PRAGMA user_version`.
    public var schemaVersion: Int?
    /// Tables this build needs that are absent.
    public var missingTables: [String]
    /// `PRAGMA journal_mode`.
    public var journalMode: String?
    /// Why it did not open, if it did not.
    public var error: String?

    /// Inspects `dataDirectory`'s database read-only.
    public static func inspect(dataDirectory: String) -> DatabaseInspection {
        let path = (dataDirectory as NSString).appendingPathComponent(Store.fileName)
        var result = DatabaseInspection(
            path: path, exists: FileManager.default.fileExists(atPath: path), opens: false, writable: false,
            schemaVersion: nil, missingTables: Store.requiredTables, journalMode: nil, error: nil)
        guard result.exists else { return result }
        result.writable = access(path, W_OK) == 0 && access(dataDirectory, W_OK) == 0
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { db in
                result.schemaVersion = try Int.fetchOne(db, sql: "PRAGMA user_version")
                result.journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                result.missingTables = Store.requiredTables.filter { !tables.contains($0) }
            }
            result.opens = true
        } catch {
            result.error = "\(error)"
        }
        return result
    }
}
