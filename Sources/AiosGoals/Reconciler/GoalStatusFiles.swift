public import AiosCore
import AiosLinux
public import AiosStore
import Foundation

/// `NAME.status.json` under the status directory, for people and scripts that only use files.
/// Never inside the watch directory (the daemon never writes there).
public struct GoalStatusFiles: Sendable {
    /// The directory (`/run/aios-net/goals`).
    public let directory: String

    /// Status files under `directory` (created 0755 when missing).
    public init(directory: String) {
        self.directory = directory
    }

    /// Writes `record`'s status and what it owns, atomically.
    public func write(_ record: GoalRecord, owned: [GoalResource]) {
        let fm = FileManager.default
        try? fm.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let text = GoalStatusView(record: record, owned: owned).json.prettyText + "\n"
        // Derived from the store (rewritten at every change): atomic, not fsynced.
        try? AtomicFile.write(Array(text.utf8), to: path(record.name), durable: false)
    }

    /// Removes the status of a goal that is gone.
    public func remove(_ name: String) { try? FileManager.default.removeItem(atPath: path(name)) }

    func path(_ name: String) -> String { "\(directory)/\(name).status.json" }
}

/// A goal's status as people and programs read it (`goal status`, the status file).
public struct GoalStatusView: Sendable {
    /// The record.
    public var record: GoalRecord
    /// What it owns.
    public var owned: [GoalResource]

    /// Creates a view.
    public init(record: GoalRecord, owned: [GoalResource]) {
        self.record = record
        self.owned = owned
    }

    /// The JSON form.
    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "name": .string(record.name), "kind": .string(record.kind), "source": .string(record.source),
            "phase": .string(record.phase), "observed_generation": .string(record.generation),
            "conditions": (try? JSONValue(encoding: record.conditions)) ?? [],
            "owns": .array(
                owned.map {
                    var item: [String: JSONValue] = ["kind": .string($0.kind), "id": .string($0.id)]
                    if let detail = $0.detail { item["detail"] = .string(detail) }
                    return .object(item)
                }),
            "first_seen_ms": .number(Double(record.firstSeenMs)),
            "last_transition_ms": .number(Double(record.transitionMs)), "failures": .number(Double(record.failures)),
        ]
        if let generation = record.appliedGeneration { out["applied_generation"] = .string(generation) }
        if let expires = record.expiresMs { out["expires_ms"] = .number(Double(expires)) }
        if let next = record.nextCheckMs { out["next_check_ms"] = .number(Double(next)) }
        if let message = record.conditions.first?.message { out["message"] = .string(message) }
        return .object(out)
    }
}
