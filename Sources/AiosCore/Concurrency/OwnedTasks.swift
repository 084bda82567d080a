import Synchronization

/// The owner of work started off a call's path — the cache catching up after an answer, a big
/// plan freed, work a change leaves for afterwards — so that none of it runs unowned: each task
/// is tracked until it ends, and `shutdown()` cancels what is left and waits for it (the daemon
/// does so as it stops, after its services). An owner stays usable after a shutdown: tests run
/// several daemons in one process.
public final class OwnedTasks: Sendable {
    /// The daemon's (and every test's) owner.
    public static let shared = OwnedTasks()

    private struct State {
        var next = 0
        var running: [Int: Task<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    /// An owner of its own (tests of the owner itself).
    public init() {}

    /// Starts `body` in a task this owner tracks.
    public func run(priority: TaskPriority? = nil, _ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.next
            state.next += 1
            // Created under the lock: the task's own removal waits for the insertion.
            state.running[id] = Task(priority: priority) { [weak self] in
                await body()
                self?.finished(id)
            }
        }
    }

    /// Tasks still running.
    public var count: Int { state.withLock { $0.running.count } }

    /// Cancels every task running now and waits until each has ended.
    public func shutdown() async {
        let tasks = state.withLock { Array($0.running.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finished(_ id: Int) {
        _ = state.withLock { $0.running.removeValue(forKey: id) }
    }
}
