import AiosCore
import Synchronization

/// Audit events kept in memory (the store's own tests cover SQLite).
final class MemoryAudit: AuditSink {
    private let rows = Mutex<[AuditEvent]>([])
    var events: [AuditEvent] { rows.withLock { $0 } }
    func record(_ event: AuditEvent) async throws { rows.withLock { $0.append(event) } }
    func calls(_ tool: String) -> [AuditEvent] { events.filter { $0.tool == tool && $0.kind.hasPrefix("call") } }
}

/// Guards kept in memory, shared between "daemon runs" to model a restart.
class MemoryGuards: GuardStore, @unchecked Sendable {
    private let rows = Mutex<[String: GuardRecord]>([:])
    var all: [GuardRecord] { rows.withLock { Array($0.values) } }

    func open(_ record: GuardRecord) async throws { rows.withLock { $0[record.id] = record } }

    func transition(id: String, from: Set<GuardState>, to: GuardState, note: String?) async throws -> Bool {
        rows.withLock { rows in
            guard var record = rows[id], from.contains(record.state) else { return false }
            record.state = to
            record.note = note ?? record.note
            rows[id] = record
            return true
        }
    }

    func guardRecord(id: String) async throws -> GuardRecord? { rows.withLock { $0[id] } }

    func openGuards() async throws -> [GuardRecord] {
        rows.withLock { $0.values.filter { $0.state.isOpen }.sorted { $0.createdMs < $1.createdMs } }
    }
}
