public import AiosCore
import AiosLinux
public import AiosStore
import Foundation
import Synchronization

/// `NAME.status.json` under the status directory, for people and scripts that only use files.
/// Never inside the watch directory (the daemon never writes there).
///
/// The files are a view of the store, rewritten at every change by a writer of their own: the
/// reconciler hands over the record and goes on, and a burst of changes to one goal is one
/// write. They lag the store by the time a write takes and are not fsynced (the store is the
/// truth; every change rewrites them).
public final class GoalStatusFiles: Sendable {
    /// The directory (`/run/aios-net/goals`).
    public let directory: String
    private let queue: Queue
    private let wake: AsyncStream<Void>.Continuation

    /// Status files under `directory` (created 0755 when missing).
    public init(directory: String) {
        self.directory = directory
        let queue = Queue(directory: directory)
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.queue = queue
        self.wake = wake
        Task.detached {
            for await _ in wakes { queue.drain() }
            queue.drain()
        }
    }

    deinit { wake.finish() }

    /// Writes `record`'s status and what it owns, atomically, soon.
    public func write(_ record: GoalRecord, owned: [GoalResource]) {
        queue.put(record.name, .write(GoalStatusView(record: record, owned: owned)))
        wake.yield()
    }

    /// Removes the status of a goal that is gone, soon.
    public func remove(_ name: String) {
        queue.put(name, .remove)
        wake.yield()
    }

    /// Returns once every change handed over before the call is on disk.
    public func flushed() async {
        await withCheckedContinuation { continuation in queue.whenIdle(continuation) }
    }

    func path(_ name: String) -> String { Queue.path(directory, name) }

    /// The changes not yet written, one per goal, and who waits for them.
    final class Queue: Sendable {
        enum Change {
            case write(GoalStatusView)
            case remove
        }

        struct State {
            var pending: [String: Change] = [:]
            var writing = false
            var waiters: [CheckedContinuation<Void, Never>] = []
        }

        let directory: String
        let state = Mutex(State())
        let created = Atomic<Bool>(false)

        init(directory: String) { self.directory = directory }

        static func path(_ directory: String, _ name: String) -> String { "\(directory)/\(name).status.json" }

        func put(_ name: String, _ change: Change) { state.withLock { $0.pending[name] = change } }

        func whenIdle(_ continuation: CheckedContinuation<Void, Never>) {
            let idle = state.withLock { state in
                if state.pending.isEmpty && !state.writing { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }

        /// Writes what is pending until nothing is; then wakes the waiters.
        func drain() {
            while true {
                let (taken, waiters) = state.withLock { state in
                    let taken = state.pending
                    state.pending = [:]
                    state.writing = !taken.isEmpty
                    let waiters = taken.isEmpty ? state.waiters : []
                    if taken.isEmpty { state.waiters = [] }
                    return (taken, waiters)
                }
                guard !taken.isEmpty else {
                    for waiter in waiters { waiter.resume() }
                    return
                }
                for (name, change) in taken { apply(change, to: Self.path(directory, name)) }
            }
        }

        func apply(_ change: Change, to path: String) {
            switch change {
            case .remove:
                try? FileManager.default.removeItem(atPath: path)
            case .write(let view):
                if !created.load(ordering: .relaxed) {
                    try? FileManager.default.createDirectory(
                        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                    created.store(true, ordering: .relaxed)
                }
                let bytes = Array((view.json.prettyText + "\n").utf8)
                do {
                    try AtomicFile.write(bytes, to: path, durable: false)
                } catch {
                    // Removed behind the daemon's back: made again.
                    try? FileManager.default.createDirectory(
                        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                    try? AtomicFile.write(bytes, to: path, durable: false)
                }
            }
        }
    }
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
