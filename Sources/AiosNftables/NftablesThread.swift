import Foundation

/// One thread that owns one libnftables context and runs every command on it, so the library's
/// allocations stay in one malloc arena from call to call.
///
/// libnftables allocates tens of megabytes for a big batch (its JSON parse, expressions, netlink
/// buffers) and frees them at the end. Run on whichever pool thread was free, each call landed in
/// an arena glibc had trimmed back and faulted its pages in again: a 10k-element batch took
/// 4,400–5,300 minor faults and 1.5–2× the CPU of the same document sent by a single-threaded C
/// program. On one thread, with trimming left to `MemoryRetention`, later batches fault almost
/// nothing.
final class NftablesThread: @unchecked Sendable {
    /// One command and its answer (written on the thread before `done` is signalled).
    private final class Job: @unchecked Sendable {
        let command: String
        var result: Result<String, NftablesError> = .failure(NftablesError(message: "not run"))
        let done = DispatchSemaphore(value: 0)

        init(_ command: String) { self.command = command }
    }

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [Job] = []
    /// Guarded by `condition`.
    private var stopping = false
    /// Used on the thread only.
    private let context: NftablesContext
    private let retention: MemoryRetention?

    /// Starts the thread, which owns `context` from here on, until `stop()`.
    init(name: String, context: NftablesContext, retention: MemoryRetention?) {
        self.context = context
        self.retention = retention
        // Named from inside: on Linux a name set before start does not reach the kernel (`top -H`).
        let thread = Thread { [self] in
            Thread.current.name = name
            loop()
        }
        thread.start()
    }

    /// Runs `command` on the thread and waits for its answer.
    func run(_ command: String) throws(NftablesError) -> String {
        let job = Job(command)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
        job.done.wait()
        return try job.result.get()
    }

    /// Ends the thread once the commands queued so far have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.result = Result { () throws(NftablesError) -> String in try context.run(job.command) }
            retention?.used(bytes: job.command.utf8.count)
            job.done.signal()
        }
    }
}
