import Synchronization

/// Work calls leave for after their caller has the answer (`ToolPlan.afterward`), collected for a
/// caller that delivers answers itself: the control socket passes one to `Orchestrator.execute`
/// and starts what it holds once the answer is written, so that work competes with neither the
/// answer nor its audit row (on two cores, a big batch's rules written out as rows beside the
/// answer made the caller wait). Without one, the pipeline starts the work itself
/// after the audit row.
public final class DeferredWork: Sendable {
    private let work = Mutex<[@Sendable () async -> Void]>([])

    /// An empty collection.
    public init() {}

    /// Keeps `body` until `start()`.
    func add(_ body: @escaping @Sendable () async -> Void) { work.withLock { $0.append(body) } }

    /// Starts everything collected so far, each in a task of its own, and forgets it.
    public func start() {
        let collected = work.withLock { work in
            defer { work = [] }
            return work
        }
        for body in collected { OwnedTasks.shared.run { await body() } }
    }
}
