import AiosCore
import AiosTesting
import Synchronization
import Testing

@Suite("work off a call's path has an owner")
struct OwnedTasksTests {
    final class Marks: Sendable {
        private let state = Mutex((ended: 0, cancelled: false))
        var ended: Int { state.withLock { $0.ended } }
        var cancelled: Bool { state.withLock { $0.cancelled } }
        func end() { state.withLock { $0.ended += 1 } }
        func sawCancel(_ value: Bool) { state.withLock { $0.cancelled = value } }
    }

    @Test("a task is tracked until it ends; shutdown cancels what runs and waits for it")
    func trackedAndShutDown() async {
        let owner = OwnedTasks()
        let marks = Marks()
        owner.run { marks.end() }
        #expect(await Poll.until(seconds: 5) { () async in owner.count == 0 })
        #expect(marks.ended == 1)

        owner.run {
            // Runs until cancelled (a minute at most).
            try? await Task.sleep(for: .seconds(60))
            marks.sawCancel(Task.isCancelled)
        }
        #expect(owner.count == 1)
        await owner.shutdown()
        #expect(marks.cancelled, "shutdown cancelled it")
        #expect(owner.count == 0, "and waited for it to end")

        // Still usable afterwards.
        owner.run { marks.end() }
        #expect(await Poll.until(seconds: 5) { () async in marks.ended == 2 })
    }
}
