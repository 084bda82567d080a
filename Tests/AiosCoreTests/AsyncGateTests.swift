import AiosCore
import Synchronization
import Testing

@Suite("a gate holds waiters until it opens, then lets every one through")
struct AsyncGateTests {
    @Test("waiters before the opening return after it; one after it returns at once")
    func opens() async {
        let gate = AsyncGate()
        let passed = Passed()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await gate.wait()
                    passed.count.withLock { $0 += 1 }
                }
            }
            // None passes a closed gate; wait until all eight are parked or running.
            for _ in 0..<100 { await Task.yield() }
            #expect(passed.count.withLock { $0 } == 0)
            #expect(!gate.isOpen)
            gate.open()
        }
        #expect(passed.count.withLock { $0 } == 8)
        await gate.wait()
        #expect(gate.isOpen)
    }
}

private final class Passed: Sendable {
    let count = Mutex(0)
}
