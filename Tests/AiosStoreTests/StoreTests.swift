import AiosCore
import Foundation
import GRDB
import Testing

@testable import AiosStore

@Suite("the SQLite store")
struct StoreTests {
    @Test("the database and its -wal/-shm are 0600, and an existing world-readable data directory is tightened")
    func privateFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-st-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let store = try Store(dataDirectory: directory)
        try store.pool.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS t (x)") }
        func mode(_ path: String) throws -> Int {
            try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        #expect(try mode(directory) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(try mode(store.path + suffix) == 0o600, "\(suffix)")
        }
    }

    @Test("a new database is migrated, WAL, at the current schema version, with every table")
    func migrated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-st-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(dataDirectory: directory)
        #expect(
            try store.appliedMigrations() == [
                "001-events", "002-guards", "003-settings", "004-firewall-rules", "005-sandboxes", "006-helpers",
                "007-dns", "008-net", "009-firewall-rules-no-key", "010-firewall-rule-counts",
                "011-firewall-rules-active-partial", "012-firewall-rule-journal", "013-goals",
            ])
        let inspection = DatabaseInspection.inspect(dataDirectory: directory)
        #expect(inspection.opens && inspection.writable)
        #expect(inspection.journalMode == "wal")
        #expect(inspection.schemaVersion == Store.schemaVersion)
        #expect(inspection.missingTables.isEmpty)
        // Opening again does not re-run migrations.
        #expect(try Store(dataDirectory: directory).appliedMigrations().count == Store.schemaVersion)
    }

    @Test("firewall rules stored before migration 009 survive it (the stored key and its index go)")
    func firewallRulesMigrate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-st-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let spec = #"{"chain":"input","destination":"any","protocolName":"tcp","source":"any","verdict":"allow"}"#
        do {
            let pool = try DatabasePool(path: "\(directory)/\(Store.fileName)")
            try Schema.migrator.migrate(pool, upTo: "008-net")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO firewall_rules (id, rule_key, verdict, spec, summary, origin, created_ms,
                            expires_ms, expires_text, state) VALUES ('r1', ?, 'allow', ?, 'allow input tcp', 'user', 1,
                            4102444800000, '2100-01-01T00:00:00Z', 'active')
                        """, arguments: [spec, spec])
            }
        }
        let store = try Store(dataDirectory: directory)
        let rules = try await store.activeFirewallRules()
        #expect(rules.map(\.id) == ["r1"])
        #expect(rules.first?.specText == spec && rules.first?.expiresText == "2100-01-01T00:00:00Z")
        #expect(try store.appliedMigrations().last == "013-goals")
        #expect(try await store.firewallRuleCounts(unexpiredAt: 2) == ["allow": 1])
    }

    @Test("audit events round-trip and filter by tool, origin and time, newest first")
    func events() async throws {
        let store = try Store.temporary()
        for (index, tool) in ["net.interfaces", "net.routes", "net.interfaces"].enumerated() {
            try await store.record(
                AuditEvent(
                    timestampMs: 1000 + Int64(index), kind: "call", callID: "c\(index)",
                    origin: index == 1 ? "llm" : "user",
                    tool: tool, input: "{}", decision: "allow", reason: "ok", result: "read", durationMicros: 42))
        }
        let all = try await store.events(AuditQuery())
        #expect(all.map(\.callID) == ["c2", "c1", "c0"])
        #expect(try await store.events(AuditQuery(tool: "net.interfaces")).count == 2)
        #expect(try await store.events(AuditQuery(origin: "llm")).map(\.tool) == ["net.routes"])
        #expect(try await store.events(AuditQuery(sinceMs: 1002)).count == 1)
        #expect(try await store.events(AuditQuery(limit: 1)).count == 1)
        #expect(all.first?.durationMicros == 42)
    }

    static func event(_ index: Int) -> AuditEvent {
        AuditEvent(
            timestampMs: 5000 + Int64(index), kind: "call", callID: "e\(index)", origin: "user", tool: "lab.flag_check",
            input: #"{"expect": "ünïcode"}"#, decision: "allow", reason: nil, result: "read", durationMicros: 7,
            detail: index % 2 == 0 ? nil : "line one\nline two")
    }

    @Test(
        "audit rows are written on the caller's thread while nothing holds the write lock, one in 128 through the writer (its commits checkpoint), every field intact"
    )
    func auditWithoutWaiting() async throws {
        let store = try Store.temporary()
        for index in 0..<300 { try await store.record(Self.event(index)) }
        // Rows 128 and 256 went through the writer; the rest were inserted here.
        #expect(store.auditConnection.insertedHere == 298)
        let all = try await store.events(AuditQuery(limit: 500))
        #expect(all.map(\.callID) == (0..<300).reversed().map { "e\($0)" })
        let stored = try #require(all.first { $0.callID == "e7" })
        let expected = Self.event(7)
        #expect(
            stored.timestampMs == expected.timestampMs && stored.kind == expected.kind
                && stored.origin == expected.origin && stored.tool == expected.tool && stored.input == expected.input
                && stored.decision == expected.decision && stored.reason == nil && stored.result == expected.result
                && stored.errorCode == nil && stored.errorMessage == nil && stored.durationMicros == 7
                && stored.detail == expected.detail)
    }

    @Test("the WAL stays bounded while audit rows are written on the caller's thread (the writer's rows checkpoint it)")
    func auditKeepsTheWALBounded() async throws {
        let store = try Store.temporary()
        // About three pages a row: 6,000 rows never checkpointed would leave a WAL of some 70 MB.
        for index in 0..<6000 { try await store.record(Self.event(index)) }
        let wal = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int ?? 0
        #expect(wal > 0 && wal < 16 << 20, "WAL of \(wal) bytes")
        #expect(try await store.events(AuditQuery(limit: 10_000)).count == 6000)
    }

    @Test("an audit row finds the write lock held (a batch's rows): it waits for the writer instead of failing")
    func auditBehindALock() async throws {
        let store = try Store.temporary()
        let (holding, held) = AsyncStream<Void>.makeStream()
        let release = DispatchSemaphore(value: 0)
        // Signalled again at the end whatever happens: an early failure leaves no writer blocked.
        defer { release.signal() }
        // A write transaction that holds SQLite's write lock until released. It waits on the
        // writer's own dispatch queue, never on a cooperative thread.
        let writer = Task {
            try await store.pool.write { db in
                // Finished however the closure ends: a failing insert fails the test, not hangs it.
                defer { held.finish() }
                try db.execute(sql: "INSERT INTO settings (key, value, updated_ms) VALUES ('held', '1', 1)")
                held.yield()
                release.wait()
            }
        }
        var locked = false
        for await _ in holding {
            locked = true
            break
        }
        try #require(locked, "the writer took the lock")
        // The connection's own attempt answers at once, having written nothing.
        #expect(try store.auditConnection.insertWithoutWaiting(Self.event(1)) == false)
        #expect(store.auditConnection.insertedHere == 0)
        let recorded = Task { try await store.record(Self.event(2)) }
        // Nothing is in before the lock is let go: the row waits behind the writer.
        #expect(try await store.events(AuditQuery()).isEmpty)
        release.signal()
        try await writer.value
        try await recorded.value
        #expect(try await store.events(AuditQuery()).map(\.callID) == ["e2"])
    }

    @Test("guard transitions are conditional: only one of confirm and rollback wins")
    func guardTransitions() async throws {
        let store = try Store.temporary()
        let record = GuardRecord(
            id: "g1", callID: "c1", tool: "fake.set", origin: .user,
            inverse: CallRequest(tool: "fake.set", input: ["value": "off"]),
            probe: CallRequest(tool: "fake.probe", input: ["expect": "on"]), createdMs: 1, deadlineMs: 2)
        try await store.open(record)
        #expect(try await store.guardRecord(id: "g1") == record)
        #expect(try await store.openGuards().map(\.id) == ["g1"])
        #expect(try await store.transition(id: "g1", from: [.pending], to: .confirmed, note: "ok"))
        #expect(try await !store.transition(id: "g1", from: [.pending], to: .rollingBack, note: nil))
        #expect(try await store.openGuards().isEmpty)
        #expect(try await store.guardRecord(id: "g1")?.state == .confirmed)
    }

    @Test("a temporary store's directory lives as long as the store")
    func temporaryDirectoryGoes() async throws {
        var store: Store? = try Store.temporary()
        let directory = try #require(store.map { ($0.path as NSString).deletingLastPathComponent })
        try await store?.setSetting("k", ["v": 1])
        #expect(FileManager.default.fileExists(atPath: directory))
        store = nil
        #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) is left behind")
    }

    @Test("a database that cannot be created is a clear error")
    func unwritable() throws {
        let error = try #require(throws: AiosError.self) { try Store(dataDirectory: "/proc/aios-net-cannot-exist") }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("--data-dir"))
    }

    @Test("doctor's inspection of a missing database says so without creating it")
    func missing() {
        let directory = "/tmp/aios-missing-\(UUID().uuidString)"
        let inspection = DatabaseInspection.inspect(dataDirectory: directory)
        #expect(!inspection.exists && !inspection.opens)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}
