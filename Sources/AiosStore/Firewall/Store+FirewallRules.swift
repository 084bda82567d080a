public import AiosCore
import Foundation
import GRDB
import Synchronization

/// One persisted firewall entry rule: what was asked, by whom, until when.
public struct FirewallRuleRecord: Sendable, Codable, Hashable {
    /// Short random id (`firewall.remove` takes it).
    public var id: String
    /// `allow` or `deny`.
    public var verdict: String
    /// The normalised rule as JSON text, as stored (enough to rebuild its set elements); kept as
    /// text so that a 100k batch neither builds nor re-serialises a tree per rule.
    public var specText: String
    /// `specText` parsed.
    public var spec: JSONValue { get throws { try JSONValue(parsing: specText) } }
    /// One line for people.
    public var summary: String
    /// Who asked.
    public var origin: String
    /// When, epoch ms.
    public var createdMs: Int64
    /// Absolute expiry, epoch ms; nil = permanent.
    public var expiresMs: Int64?
    /// The expiry as the caller wrote it (`2h`, an RFC 3339 time).
    public var expiresText: String?
    /// `active`, `removed` or `expired`.
    public var state: String
    /// When it stopped being active, epoch ms.
    public var endedMs: Int64?

    /// Creates a record.
    public init(
        id: String, verdict: String, specText: String, summary: String, origin: String,
        createdMs: Int64, expiresMs: Int64?, expiresText: String?, state: String = "active", endedMs: Int64? = nil
    ) {
        self.id = id
        self.verdict = verdict
        self.specText = specText
        self.summary = summary
        self.origin = origin
        self.createdMs = createdMs
        self.expiresMs = expiresMs
        self.expiresText = expiresText
        self.state = state
        self.endedMs = endedMs
    }

    /// Creates a record from a spec tree.
    public init(
        id: String, verdict: String, spec: JSONValue, summary: String, origin: String, createdMs: Int64,
        expiresMs: Int64?, expiresText: String?, state: String = "active", endedMs: Int64? = nil
    ) {
        self.init(
            id: id, verdict: verdict, specText: spec.jsonText, summary: summary, origin: origin,
            createdMs: createdMs, expiresMs: expiresMs, expiresText: expiresText, state: state, endedMs: endedMs)
    }
}

extension Store {
    /// A number that changes whenever the active firewall rules may have (an insert or an end
    /// committed by this process). A cache read after taking it is valid while it is unchanged.
    public var firewallRulesGeneration: UInt64 { firewallGeneration.load(ordering: .acquiring) }

    /// Inserts rules in one transaction, committed when it returns: records, or a batch that
    /// writes each row as bytes (`FirewallRowSource`: a 100k batch makes no String per field).
    /// - Parameter marker: a setting committed in the same transaction as the rows.
    public func insertFirewallRules(
        _ rows: some FirewallRowSource, marker: (key: String, value: JSONValue)? = nil
    ) async throws {
        try await settleFirewallRules()
        try await pool.write { db in
            if let marker { try Self.setSetting(marker.key, marker.value, in: db) }
            try Self.insertRows(rows, in: db)
        }
        firewallGeneration.add(1, ordering: .releasing)
    }

    /// Persists `rows` as one journal entry (`FirewallRowJournal`), with `marker` in the same
    /// transaction: committed when it returns, at the cost of one write instead of a row per rule
    /// (the rows cost more than the kernel step; the entry a fraction of it). They become rows
    /// when `settleFirewallRules` runs, which every read and change of the rules here does first,
    /// so no caller sees the difference. A big batch's path (the planner settles right after its
    /// answer). Only the daemon writes the rules (it holds the data directory's lock); a store
    /// opened on the file finds the entries a crash left and settles them at its first use.
    public func journalFirewallRules(
        _ rows: some FirewallRowSource, marker: (key: String, value: JSONValue)? = nil
    ) async throws {
        let body = Data(FirewallRowJournal.encode(rows))
        try await pool.write { db in
            if let marker { try Self.setSetting(marker.key, marker.value, in: db) }
            try db.execute(sql: "INSERT INTO firewall_rule_journal (body) VALUES (?)", arguments: [body])
        }
        // Counted before the generation moves: whoever reloads on the new generation settles first.
        firewallJournal.add(1, ordering: .releasing)
        firewallGeneration.add(1, ordering: .releasing)
    }

    /// Writes every journaled batch out as rows, in the order they were journaled, in one
    /// transaction that also deletes their entries. Costs nothing when none is pending.
    public func settleFirewallRules() async throws {
        guard firewallJournal.load(ordering: .acquiring) > 0 else { return }
        let settled = try await pool.write { db in
            let entries = try Row.fetchAll(db, sql: "SELECT seq, body FROM firewall_rule_journal ORDER BY seq")
            for entry in entries {
                let body: Data = entry["body"]
                try Self.insertRows(FirewallRowJournal([UInt8](body)), in: db)
            }
            if let last = entries.last {
                try db.execute(
                    sql: "DELETE FROM firewall_rule_journal WHERE seq <= ?", arguments: [last["seq"] as Int64])
            }
            return entries.count
        }
        firewallJournal.subtract(settled, ordering: .releasing)
    }

    /// Inserts `rows` and moves the kept counts, inside the caller's transaction.
    private static func insertRows(_ rows: some FirewallRowSource, in db: Database) throws {
        let statement = try db.makeStatement(
            sql: """
                INSERT INTO firewall_rules (id, verdict, spec, summary, origin, created_ms, expires_ms,
                    expires_text, state, ended_ms) VALUES (?,?,?,?,?,?,?,?,?,?)
                """)
        // Bound with SQLite's own calls: GRDB's argument arrays boxed ten values per row
        // (two thirds of a 100k-row insert's CPU).
        let bind = SQLiteRow(
            statement: statement.sqliteStatement, connection: db.sqliteConnection!, sql: statement.sql)
        var row = FirewallRowBytes()
        // Active rows per verdict, counted by runs (a batch is one run).
        var added: [String: Int] = [:]
        var run = (verdict: "", count: 0)
        for position in 0..<rows.count {
            row.clear()
            rows.write(position, into: &row)
            try bind.bind(1, bytes: row.id)
            try bind.bind(2, row.verdict)
            try bind.bind(3, bytes: row.spec)
            try bind.bind(4, bytes: row.summary)
            try bind.bind(5, row.origin)
            try bind.bind(6, row.createdMs)
            try bind.bind(7, row.expiresMs)
            try bind.bind(8, row.expiresText)
            try bind.bind(9, row.state)
            try bind.bind(10, row.endedMs)
            try bind.step()
            guard row.state == "active" else { continue }
            if row.verdict != run.verdict {
                added[run.verdict, default: 0] += run.count
                run = (row.verdict, 0)
            }
            run.count += 1
        }
        added[run.verdict, default: 0] += run.count
        try count(added, in: db)
    }

    /// Active rules whose spec names an interface: the only ones whose elements libnftables could
    /// fail to list (an empty wildcard prefix), read without the others (a start checks them
    /// before it serves, with 100k rules in force).
    public func activeFirewallRulesWithInterface() async throws -> [FirewallRuleRecord] {
        try await settleFirewallRules()
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM firewall_rules WHERE state = 'active' AND instr(spec, '\"interface\":\"') > 0 ORDER BY created_ms, id"
            ).map(Self.decodeRule)
        }
    }

    /// Active rules (state `active`), optionally only those still unexpired at `nowMs`.
    public func activeFirewallRules(unexpiredAt nowMs: Int64? = nil) async throws -> [FirewallRuleRecord] {
        try await settleFirewallRules()
        return try await pool.read { db in
            let rows: [Row]
            if let nowMs {
                rows = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM firewall_rules WHERE state = 'active' AND (expires_ms IS NULL OR expires_ms > ?) ORDER BY created_ms, id",
                    arguments: [nowMs])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM firewall_rules WHERE state = 'active' ORDER BY created_ms, id")
            }
            return try rows.map(Self.decodeRule)
        }
    }

    /// Active rules created at exactly `createdMs` (one batch: its rules share the time).
    public func activeFirewallRules(createdAt createdMs: Int64) async throws -> [FirewallRuleRecord] {
        try await settleFirewallRules()
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM firewall_rules WHERE state = 'active' AND created_ms = ? ORDER BY id",
                arguments: [createdMs]
            ).map(Self.decodeRule)
        }
    }

    /// Counts of active, unexpired rules by verdict — without counting rows: the active counts are
    /// kept in `firewall_rule_counts` by the same transactions that insert and end rules, and only
    /// the rules that expired but are not ended yet (a few, until the reporter ends them) are
    /// counted, through the index.
    public func firewallRuleCounts(unexpiredAt nowMs: Int64) async throws -> [String: Int] {
        try await settleFirewallRules()
        return try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT verdict, active FROM firewall_rule_counts") {
                counts[row["verdict"]] = row["active"]
            }
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT verdict, COUNT(*) AS n FROM firewall_rules WHERE state = 'active' AND expires_ms <= ? GROUP BY verdict",
                arguments: [nowMs])
            {
                counts[row["verdict"], default: 0] -= row["n"] as Int
            }
            return counts.filter { $0.value > 0 }
        }
    }

    /// At most `limit` active, unexpired rules, soonest expiry first (permanent ones last), read in
    /// index order (`firewall_rules_active`): the cost follows `limit`, not the rules present.
    public func firewallRules(unexpiredAt nowMs: Int64, limit: Int) async throws -> [FirewallRuleRecord] {
        try await settleFirewallRules()
        return try await pool.read { db in
            var rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms > ?
                    ORDER BY expires_ms, created_ms LIMIT ?
                    """, arguments: [nowMs, limit])
            if rows.count < limit {
                rows += try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms IS NULL
                        ORDER BY created_ms LIMIT ?
                        """, arguments: [limit - rows.count])
            }
            return try rows.map(Self.decodeRule)
        }
    }

    /// Moves the kept active counts by `deltas` (verdict → change).
    private static func count(_ deltas: [String: Int], in db: Database) throws {
        for (verdict, delta) in deltas where delta != 0 {
            try db.execute(
                sql: """
                    INSERT INTO firewall_rule_counts (verdict, active) VALUES (?, ?)
                    ON CONFLICT(verdict) DO UPDATE SET active = active + excluded.active
                    """, arguments: [verdict, delta])
        }
    }

    /// Ends rules (`removed` or `expired`) at `endedMs`; returns how many changed.
    @discardableResult
    public func endFirewallRules(ids: [String], state: String, endedMs: Int64) async throws -> Int {
        try await moveFirewallRules(
            ids: ids, activeBy: -1,
            sql: """
                UPDATE firewall_rules SET state = ?, ended_ms = ?
                WHERE state = 'active' AND id IN (SELECT value FROM json_each(?)) RETURNING verdict
                """, arguments: [state, endedMs])
    }

    /// Makes rules that `endFirewallRules` ended at `endedMs` active again (a removal whose kernel
    /// transaction failed after its rows committed); returns how many changed. Rules ended at
    /// another time (expired, or removed by another call) stay ended.
    @discardableResult
    public func reactivateFirewallRules(ids: [String], endedMs: Int64) async throws -> Int {
        try await moveFirewallRules(
            ids: ids, activeBy: 1,
            sql: """
                UPDATE firewall_rules SET state = 'active', ended_ms = NULL
                WHERE state != 'active' AND ended_ms = ? AND id IN (SELECT value FROM json_each(?))
                RETURNING verdict
                """, arguments: [endedMs])
    }

    /// Runs `sql` (an `UPDATE … RETURNING verdict` whose last parameter is the ids) and moves the
    /// kept active counts by `activeBy` per changed rule; returns how many changed.
    private func moveFirewallRules(ids: [String], activeBy step: Int, sql: String, arguments: StatementArguments)
        async throws -> Int
    {
        // One statement for the whole list (the ids as one JSON array): single-row updates from
        // Swift spent most of their time in per-statement overhead.
        let list = JSONValue.array(ids.map(JSONValue.string)).jsonText
        try await settleFirewallRules()
        let changed = try await pool.write { db in
            var moved: [String: Int] = [:]
            let verdicts = try String.fetchCursor(db, sql: sql, arguments: arguments + [list])
            while let verdict = try verdicts.next() { moved[verdict, default: 0] += step }
            try Self.count(moved, in: db)
            return moved.values.reduce(0) { $0 + abs($1) }
        }
        firewallGeneration.add(1, ordering: .releasing)
        return changed
    }

    /// Active rules whose expiry is at or before `nowMs` (not yet reported).
    public func expiredFirewallRules(at nowMs: Int64) async throws -> [FirewallRuleRecord] {
        try await settleFirewallRules()
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM firewall_rules WHERE state = 'active' AND expires_ms IS NOT NULL AND expires_ms <= ? ORDER BY expires_ms",
                arguments: [nowMs]
            ).map(Self.decodeRule)
        }
    }

    /// The earliest expiry among active rules, if any.
    public func nextFirewallExpiry() async throws -> Int64? {
        try await settleFirewallRules()
        return try await pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MIN(expires_ms) FROM firewall_rules WHERE state = 'active' AND expires_ms IS NOT NULL")
        }
    }

    private static func decodeRule(_ row: Row) throws -> FirewallRuleRecord {
        FirewallRuleRecord(
            id: row["id"], verdict: row["verdict"], specText: row["spec"],
            summary: row["summary"], origin: row["origin"], createdMs: row["created_ms"], expiresMs: row["expires_ms"],
            expiresText: row["expires_text"], state: row["state"], endedMs: row["ended_ms"])
    }
}
