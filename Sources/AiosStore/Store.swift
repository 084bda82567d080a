import AiosCore
import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// aios-net's state: one SQLite database (WAL) under the data directory, one migration timeline.
///
/// Tables: `events` (the audit trail), `guards` (guarded changes and their inverses); later
/// issues add theirs as new migrations. Timestamps are epoch milliseconds.
///
/// Durability: WAL with `synchronous=NORMAL`: a committed transaction survives the process being
/// killed at any point (SIGKILL, crash); only an OS crash or power loss can lose the last commits.
public final class Store: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// Bumped after every committed change to `firewall_rules` (see `firewallRulesGeneration`).
    let firewallGeneration = Atomic<UInt64>(0)
    /// Journaled firewall batches not yet written out as rows (`journalFirewallRules`).
    let firewallJournal = Atomic<Int>(0)
    /// Audit rows written without the writer's thread hops (`AuditConnection`).
    let auditConnection: AuditConnection
    /// The directory `temporary()` made, removed with the store (nil for a real data directory).
    private let temporaryDirectory: String?

    /// The database file's name inside the data directory.
    public static let fileName = "aios-net.sqlite"

    /// Opens (creating if needed) the database in `dataDirectory` and migrates it.
    /// - Throws: `AiosError.unavailable` with a fix hint when the directory or file cannot be used.
    public convenience init(dataDirectory: String) throws {
        try self.init(dataDirectory: dataDirectory, temporary: false)
    }

    private init(dataDirectory: String, temporary: Bool) throws {
        temporaryDirectory = temporary ? dataDirectory : nil
        let fm = FileManager.default
        do {
            try fm.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AiosError(
                .unavailable,
                "cannot create the data directory \(dataDirectory): \(error.localizedDescription); pick another with --data-dir",
                cause: error)
        }
        path = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
        // The database holds rules, records, keys' metadata and the audit trail: the owner's
        // alone. A directory that already existed (made by hand, or by an older version, 0755)
        // is tightened; the file and SQLite's -wal/-shm (which take the file's mode) are 0600.
        if !temporary {
            chmod(dataDirectory, 0o700)
            let made = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            if made >= 0 { Glibc.close(made) }
            for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // A lock held by the audit connection (`AuditConnection`) lasts microseconds: the first
        // 100 retries are 100 µs apart (SQLite's own handler first waits 1 ms), then 10 ms apart,
        // for about 5 s in all.
        configuration.busyMode = .callback { tries in
            guard tries < 600 else { return false }
            usleep(tries < 100 ? 100 : 10_000)
            return true
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
            try pool.write { db in try db.execute(sql: "PRAGMA user_version = \(Schema.version)") }
            // Batches a crash left journaled are written out as rows at the first use of the rules.
            let journaled = try pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM firewall_rule_journal") ?? 0
            }
            firewallJournal.store(journaled, ordering: .releasing)
        } catch {
            throw AiosError(
                .unavailable, "cannot open the database \(path): \(error); check the file's permissions and free space",
                cause: error)
        }
        auditConnection = AuditConnection(path: path)
    }

    /// A store in a fresh temporary directory (tests and benchmarks), removed when the store goes.
    public static func temporary() throws -> Store {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aios-store-\(UUID().uuidString)").path
        return try Store(dataDirectory: dir, temporary: true)
    }

    deinit {
        // The pool's files are still open here; unlinking them is fine on Linux.
        if let temporaryDirectory { try? FileManager.default.removeItem(atPath: temporaryDirectory) }
    }

    /// The schema version this build writes and expects.
    public static var schemaVersion: Int { Schema.version }

    /// The tables this build needs.
    public static var requiredTables: [String] { Schema.tables }

    /// The migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }
}
