import AiosLinux
import Foundation

/// Accepts control connections on a few threads, leader and followers: the thread whose `accept`
/// returns serves that connection itself, after handing the listening role to an idle thread (or
/// starting one). Serving starts the moment `accept` returns: no thread is started or woken on
/// the connection's path (a thread per connection, started after `accept`, cost more than the
/// call itself; `Benchmarks/README.md`, dispatch).
///
/// Threads that finish serving wait to lead again; more than `maxIdle` waiting ones end.
final class AcceptThreads: @unchecked Sendable {
    private let listener: Int32
    private let name: String
    private let admit: @Sendable (Int32) -> Bool
    private let serve: @Sendable (Int32) -> Void
    private let condition = NSCondition()
    /// Guarded by `condition`: a thread is in `accept`.
    private var leading = false
    /// Guarded by `condition`: threads waiting to lead.
    private var idle = 0
    /// Guarded by `condition`.
    private var stopping = false
    /// Guarded by `condition`: threads started and not yet ended.
    private var threads = 0

    /// Threads kept waiting beyond the leader.
    static let maxIdle = 4

    /// Serves connections accepted on `listener` with `serve` (which closes them), once started.
    /// `admit` runs first, on the accepting thread, before any thread is started or handed the
    /// listening role: a connection it refuses (it answers and closes it, and returns false)
    /// costs no thread and no buffer, however many arrive.
    init(
        listener: Int32, name: String, admit: @escaping @Sendable (Int32) -> Bool = { _ in true },
        serve: @escaping @Sendable (Int32) -> Void
    ) {
        self.listener = listener
        self.name = name
        self.admit = admit
        self.serve = serve
    }

    /// Starts the first leader.
    func start() { spawn() }

    /// Ends the waiting threads, and the leader once its `accept` fails (shut the listener down
    /// after this); threads serving a connection end when it does.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Threads started and not yet ended (serving, leading or waiting).
    var running: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    private func spawn() {
        condition.lock()
        threads += 1
        condition.unlock()
        // Named from inside: on Linux a name set before start does not reach the kernel (`top -H`).
        let thread = Thread { [self] in
            Thread.current.name = name
            lead()
            condition.lock()
            threads -= 1
            condition.unlock()
        }
        thread.start()
    }

    private func lead() {
        while true {
            condition.lock()
            while leading && !stopping {
                guard idle < Self.maxIdle else {
                    condition.unlock()
                    return
                }
                idle += 1
                condition.wait()
                idle -= 1
            }
            guard !stopping else {
                condition.unlock()
                return
            }
            leading = true
            condition.unlock()

            var connection: Int32?
            while connection == nil && !isStopping {
                guard let accepted = try? UnixSocket.accept(listener) else {
                    // Out of descriptors (EMFILE), or interrupted: retry without spinning.
                    usleep(10_000)
                    continue
                }
                if admit(accepted) { connection = accepted }
            }

            condition.lock()
            leading = false
            let stopped = stopping
            let follower = idle > 0
            if follower { condition.signal() }
            condition.unlock()
            guard let connection, !stopped else {
                if let connection { close(connection) }
                return
            }
            if !follower { spawn() }
            serve(connection)
        }
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }
}
