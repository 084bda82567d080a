public import AiosCore
import Foundation
import GRDB

/// One condition of a goal's status (kstatus-style: `Ready`, `Reconciling`, `Stalled`, …).
public struct GoalCondition: Sendable, Codable, Hashable {
    /// What the condition is about.
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// A word for programs (`Applied`, `CallFailed`, `Conflict`, `Expired`).
    public var reason: String
    /// A sentence for people.
    public var message: String
    /// The generation (document hash) this condition was computed for.
    public var observedGeneration: String
    /// When the status last changed, epoch ms.
    public var lastTransitionMs: Int64

    /// Creates a condition.
    public init(
        type: String, status: String, reason: String, message: String, observedGeneration: String,
        lastTransitionMs: Int64
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.observedGeneration = observedGeneration
        self.lastTransitionMs = lastTransitionMs
    }

    enum CodingKeys: String, CodingKey {
        case type, status, reason, message
        case observedGeneration = "observed_generation", lastTransitionMs = "last_transition_ms"
    }
}

/// A goal as the store keeps it: the document in force, its status, and its schedule.
public struct GoalRecord: Sendable, Codable, Hashable {
    /// The goal's name (unique).
    public var name: String
    /// Its kind.
    public var kind: String
    /// The source and place it came from (`/etc/aios-net/goals.d/web.yaml`).
    public var source: String
    /// The document as last read (JSON).
    public var document: JSONValue
    /// The document's hash.
    public var generation: String
    /// The document last applied, kept in force while a newer one is invalid.
    public var appliedDocument: JSONValue?
    /// Its hash.
    public var appliedGeneration: String?
    /// `pending | applied | degraded | failed | conflict | paused | expired | retracted | invalid`.
    public var phase: String
    /// The conditions behind the phase.
    public var conditions: [GoalCondition]
    /// When the daemon first saw this goal, epoch ms (a duration `expires` counts from here).
    public var firstSeenMs: Int64
    /// When it expires, epoch ms.
    public var expiresMs: Int64?
    /// When it is looked at again, epoch ms.
    public var nextCheckMs: Int64?
    /// Failed reconciles in a row (the backoff's exponent).
    public var failures: Int
    /// When the phase last changed, epoch ms.
    public var transitionMs: Int64
    /// When the row was last written, epoch ms.
    public var updatedMs: Int64

    /// Creates a record.
    public init(
        name: String, kind: String, source: String, document: JSONValue, generation: String,
        appliedDocument: JSONValue? = nil, appliedGeneration: String? = nil, phase: String,
        conditions: [GoalCondition] = [], firstSeenMs: Int64, expiresMs: Int64? = nil, nextCheckMs: Int64? = nil,
        failures: Int = 0, transitionMs: Int64, updatedMs: Int64
    ) {
        self.name = name
        self.kind = kind
        self.source = source
        self.document = document
        self.generation = generation
        self.appliedDocument = appliedDocument
        self.appliedGeneration = appliedGeneration
        self.phase = phase
        self.conditions = conditions
        self.firstSeenMs = firstSeenMs
        self.expiresMs = expiresMs
        self.nextCheckMs = nextCheckMs
        self.failures = failures
        self.transitionMs = transitionMs
        self.updatedMs = updatedMs
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, source, document, generation, phase, conditions, failures
        case appliedDocument = "applied_document", appliedGeneration = "applied_generation"
        case firstSeenMs = "first_seen_ms", expiresMs = "expires_ms", nextCheckMs = "next_check_ms"
        case transitionMs = "transition_ms", updatedMs = "updated_ms"
    }
}

/// A resource a goal created and owns (a firewall rule id, a record name, a list): retraction
/// removes exactly these.
public struct GoalResource: Sendable, Codable, Hashable {
    /// The owning goal.
    public var goal: String
    /// What it is (`firewall.rule`, `dns.record`, `dns.blocklist`, …).
    public var kind: String
    /// Its id in that kind.
    public var id: String
    /// What it was, for people.
    public var detail: String?
    /// When it was made, epoch ms.
    public var createdMs: Int64

    /// Creates a resource.
    public init(goal: String, kind: String, id: String, detail: String? = nil, createdMs: Int64) {
        self.goal = goal
        self.kind = kind
        self.id = id
        self.detail = detail
        self.createdMs = createdMs
    }

    enum CodingKeys: String, CodingKey {
        case goal, kind, id, detail
        case createdMs = "created_ms"
    }
}

/// A goal file's last reading: the goals it holds, or why it was refused.
public struct GoalFileRecord: Sendable, Codable, Hashable {
    /// Its path.
    public var path: String
    /// Why it was refused (file:line:column: message), nil when it was read.
    public var error: String?
    /// The goals it held when last valid.
    public var names: [String]
    /// When it was read, epoch ms.
    public var updatedMs: Int64

    /// Creates a record.
    public init(path: String, error: String?, names: [String], updatedMs: Int64) {
        self.path = path
        self.error = error
        self.names = names
        self.updatedMs = updatedMs
    }

    enum CodingKeys: String, CodingKey {
        case path, error, names
        case updatedMs = "updated_ms"
    }
}

extension Store {
    /// Every goal, by name.
    public func goals() async throws -> [GoalRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM goals ORDER BY name").map(Self.goal) }
    }

    /// The goal `name`, or nil.
    public func goal(_ name: String) async throws -> GoalRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM goals WHERE name = ?", arguments: [name]).map(Self.goal)
        }
    }

    /// Writes a goal's status (and, in the same transaction, resources it gained and lost and
    /// the intent that made them, so a crash never leaves ownership half-recorded).
    public func saveGoal(
        _ goal: GoalRecord, adding: [GoalResource] = [], removing: [GoalResource] = [], endingIntents: [String] = []
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO goals (name, kind, source, document, generation, applied_document,
                        applied_generation, phase, conditions, first_seen_ms, expires_ms, next_check_ms, failures,
                        transition_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """,
                arguments: [
                    goal.name, goal.kind, goal.source, goal.document.jsonText, goal.generation,
                    goal.appliedDocument?.jsonText, goal.appliedGeneration, goal.phase,
                    (try JSONValue(encoding: goal.conditions)).jsonText, goal.firstSeenMs, goal.expiresMs,
                    goal.nextCheckMs, goal.failures, goal.transitionMs, goal.updatedMs,
                ])
            for resource in adding {
                try db.execute(
                    sql:
                        "INSERT OR REPLACE INTO goal_resources (goal, kind, id, detail, created_ms) VALUES (?,?,?,?,?)",
                    arguments: [resource.goal, resource.kind, resource.id, resource.detail, resource.createdMs])
            }
            for resource in removing {
                try db.execute(
                    sql: "DELETE FROM goal_resources WHERE goal = ? AND kind = ? AND id = ?",
                    arguments: [resource.goal, resource.kind, resource.id])
            }
            for id in endingIntents {
                try db.execute(sql: "DELETE FROM goal_intents WHERE call_id = ?", arguments: [id])
            }
        }
    }

    /// Forgets a goal and what it owned (after its retraction removed them).
    public func deleteGoal(_ name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM goals WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM goal_resources WHERE goal = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM goal_intents WHERE goal = ?", arguments: [name])
        }
    }

    /// What `goal` owns (every goal's when nil).
    public func goalResources(_ goal: String? = nil) async throws -> [GoalResource] {
        try await pool.read { db in
            let rows =
                try goal.map {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM goal_resources WHERE goal = ? ORDER BY kind, id", arguments: [$0])
                } ?? Row.fetchAll(db, sql: "SELECT * FROM goal_resources ORDER BY goal, kind, id")
            return rows.map {
                GoalResource(
                    goal: $0["goal"], kind: $0["kind"], id: $0["id"], detail: $0["detail"], createdMs: $0["created_ms"])
            }
        }
    }

    /// Records that `goal` is about to run call `callID` (committed before the call): a crash
    /// between the call and its ownership row leaves this, and the next reconcile adopts what
    /// the call made instead of taking it for someone else's.
    public func saveGoalIntent(goal: String, callID: String, tool: String, at ms: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO goal_intents (call_id, goal, tool, created_ms) VALUES (?,?,?,?)",
                arguments: [callID, goal, tool, ms])
        }
    }

    /// The intents of `goal` left by a run that did not record their outcome.
    public func goalIntents(_ goal: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT call_id FROM goal_intents WHERE goal = ?", arguments: [goal])
        }
    }

    /// Every goal's intents left by a run that did not record their outcome, by goal.
    public func goalIntentsByGoal() async throws -> [String: [String]] {
        try await pool.read { db in
            var intents: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT goal, call_id FROM goal_intents") {
                intents[row["goal"], default: []].append(row["call_id"])
            }
            return intents
        }
    }

    /// Every goal file's last reading.
    public func goalFiles() async throws -> [GoalFileRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM goal_files ORDER BY path").map { row in
                let names = (try? JSONValue(parsing: row["names"] as String))?.arrayValue ?? []
                return GoalFileRecord(
                    path: row["path"], error: row["error"], names: names.compactMap(\.stringValue),
                    updatedMs: row["updated_ms"])
            }
        }
    }

    /// Records goal files' readings, in one transaction.
    public func saveGoalFiles(_ files: [GoalFileRecord]) async throws {
        guard !files.isEmpty else { return }
        try await pool.write { db in
            for file in files {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO goal_files (path, error, names, updated_ms) VALUES (?,?,?,?)",
                    arguments: [
                        file.path, file.error, JSONValue.array(file.names.map(JSONValue.string)).jsonText,
                        file.updatedMs,
                    ])
            }
        }
    }

    /// Forgets a goal file (it was deleted).
    public func deleteGoalFile(_ path: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM goal_files WHERE path = ?", arguments: [path]) }
    }

    private static func goal(_ row: Row) -> GoalRecord {
        let conditions =
            (try? JSONValue(parsing: row["conditions"] as String))
            .flatMap { try? $0.decode(as: [GoalCondition].self) } ?? []
        return GoalRecord(
            name: row["name"], kind: row["kind"], source: row["source"],
            document: (try? JSONValue(parsing: row["document"] as String)) ?? .null, generation: row["generation"],
            appliedDocument: (row["applied_document"] as String?).flatMap { try? JSONValue(parsing: $0) },
            appliedGeneration: row["applied_generation"], phase: row["phase"], conditions: conditions,
            firstSeenMs: row["first_seen_ms"], expiresMs: row["expires_ms"], nextCheckMs: row["next_check_ms"],
            failures: row["failures"], transitionMs: row["transition_ms"], updatedMs: row["updated_ms"])
    }
}
