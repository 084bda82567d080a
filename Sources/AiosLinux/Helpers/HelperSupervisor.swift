import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One running helper, named for good by PID and start time (a recycled PID is never ours).
public struct HelperProcess: Sendable, Hashable {
    /// Its role in the ledger (`unbound`, `dhcpcd:eth0`).
    public let name: String
    /// Its PID.
    public let pid: Int32
    /// Its start time in clock ticks since boot.
    public let startTicks: UInt64

    /// Creates a handle.
    public init(name: String, pid: Int32, startTicks: UInt64) {
        self.name = name
        self.pid = pid
        self.startTicks = startTicks
    }

    /// True while it runs.
    public var isRunning: Bool { ChildProcess.isRunning(pid, startTicks: startTicks) }
}

/// Why a helper did not come up.
public struct HelperFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable {
        /// The program is not installed; the text says how to install it.
        case notInstalled(hint: String)
        /// It could not be started (fork, exec, the log file).
        case spawn(SystemCallError)
        /// It exited before it was ready; the text is the end of its log.
        case exited(log: String)
        /// It was not ready within the deadline; the text is the end of its log.
        case notReady(within: Duration, log: String)
        /// The ledger could not record it.
        case ledger(String)
    }

    /// The program's short name.
    public let program: String
    /// What went wrong.
    public let reason: Reason

    public var description: String {
        switch reason {
        case .notInstalled(let hint): "\(program) is not installed; \(hint)"
        case .spawn(let error): "cannot start \(program): \(error)"
        case .exited(let log): "\(program) exited at start: \(log)"
        case .notReady(let within, let log): "\(program) was not ready within \(within): \(log)"
        case .ledger(let message): "cannot record \(program): \(message)"
        }
    }
}

/// The one supervisor of helper programs (unbound, dhcpcd, wireguard-go, a local model server):
/// adopts by PID what a previous daemon left running, spawns and records a process before waiting
/// for it, waits until it is ready with a deadline, stops it and forgets it, and keeps one running
/// with backoff. Records live in a `HelperLedger` (the store), so a restart of the daemon alone
/// finds its helpers instead of starting more.
public struct HelperSupervisor: Sendable {
    /// Where records are kept.
    public let ledger: any HelperLedger
    /// Wall time in epoch milliseconds (injected: tests control time).
    public let nowMs: @Sendable () -> Int64

    /// Creates a supervisor over `ledger`.
    public init(ledger: any HelperLedger, nowMs: @escaping @Sendable () -> Int64) {
        self.ledger = ledger
        self.nowMs = nowMs
    }

    /// The recorded helper `name` when it still runs, with its record; nil otherwise.
    public func adopt(_ name: String) async -> (process: HelperProcess, record: HelperRecord)? {
        guard let record = try? await ledger.helper(name) else { return nil }
        let process = HelperProcess(name: name, pid: record.pid, startTicks: record.startTicks)
        return process.isRunning ? (process, record) : nil
    }

    /// Every recorded helper whose name starts with `prefix` and still runs, by the rest of its
    /// name (`dhcpcd:` → interface); the records of those that are gone are forgotten.
    public func adoptAll(prefix: String) async -> [String: HelperProcess] {
        var running: [String: HelperProcess] = [:]
        for record in (try? await ledger.helpers()) ?? [] where record.name.hasPrefix(prefix) {
            let process = HelperProcess(name: record.name, pid: record.pid, startTicks: record.startTicks)
            if process.isRunning {
                running[String(record.name.dropFirst(prefix.count))] = process
            } else {
                try? await ledger.deleteHelper(record.name)
            }
        }
        return running
    }

    /// Starts `spec` as helper `name`, records it (before any wait: a daemon killed meanwhile
    /// adopts it), and waits until `ready` says so, polling every 20 ms up to `within`.
    /// - Parameters:
    ///   - passing: listening sockets handed over as systemd's socket activation does.
    ///   - installHint: what to tell the person when the program is missing.
    ///   - ready: nil when the process counts as ready once started.
    /// - Throws: `HelperFailure`; a process that was not ready is stopped first.
    public func start(
        _ name: String, _ spec: ChildSpec, passing: [Int32]? = nil, fingerprint: String? = nil,
        installHint: String, within: Duration = .seconds(10),
        ready: (@Sendable (HelperProcess) async -> Bool)? = nil
    ) async throws(HelperFailure) -> HelperProcess {
        let program = (spec.executable as NSString).lastPathComponent
        guard FileManager.default.isExecutableFile(atPath: spec.executable) else {
            throw HelperFailure(program: program, reason: .notInstalled(hint: installHint))
        }
        let pid: Int32
        do throws(SystemCallError) {
            if let passing {
                pid = try ChildProcess.spawn(spec, passing: passing)
            } else {
                pid = try ChildProcess.spawn(spec)
            }
        } catch {
            throw HelperFailure(program: program, reason: .spawn(error))
        }
        let process = HelperProcess(name: name, pid: pid, startTicks: ChildProcess.startTicks(pid) ?? 0)
        do {
            try await ledger.saveHelper(
                HelperRecord(
                    name: name, pid: pid, startTicks: process.startTicks, command: spec.commandLine,
                    fingerprint: fingerprint, startedMs: nowMs()))
        } catch {
            ChildProcess.stop(pid)
            throw HelperFailure(program: program, reason: .ledger("\(error)"))
        }
        guard let ready else { return process }
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw HelperFailure(program: program, reason: .exited(log: Self.logTail(spec.logPath)))
            }
            if await ready(process) { return process }
            try? await Task.sleep(for: .milliseconds(20))
        }
        ChildProcess.stop(pid)
        throw HelperFailure(program: program, reason: .notReady(within: within, log: Self.logTail(spec.logPath)))
    }

    /// Stops `process` (SIGTERM, then SIGKILL to its group after `grace` seconds) on a thread,
    /// and forgets its record.
    public func stop(_ process: HelperProcess, grace: Double = 5) async {
        let pid = process.pid
        _ = try? await Offload.run { ChildProcess.stop(pid, grace: grace) }
        try? await ledger.deleteHelper(process.name)
    }

    /// Records a new fingerprint for the running helper `name` (its configuration changed at run
    /// time, so the process counts as current).
    public func updateFingerprint(_ name: String, to fingerprint: String) async throws {
        guard var record = try await ledger.helper(name) else { return }
        record.fingerprint = fingerprint
        try await ledger.saveHelper(record)
    }

    /// Keeps a helper running until the task is cancelled: `ensure` starts or adopts it and
    /// returns the process to watch; when that exits and `current` names no other running one (a
    /// replacement made on purpose, watched in turn), or when `ensure` throws, `failed` hears
    /// why and the next try waits by `backoff` — reset once a process has run for `healthy`.
    public static func keepRunning(
        backoff: Backoff = Backoff(initial: .milliseconds(250), cap: .seconds(30), jitter: 0.2),
        healthy: Duration = .seconds(10),
        ensure: @Sendable () async throws -> HelperProcess,
        current: @Sendable () async -> HelperProcess?,
        failed: @Sendable (_ exited: HelperProcess?, _ error: (any Error)?) async -> Void
    ) async {
        var backoff = backoff
        while !Task.isCancelled {
            do {
                var process = try await ensure()
                let started = ContinuousClock.now
                while true {
                    _ = await ChildProcess.waitForExit(process.pid)
                    if Task.isCancelled { return }
                    guard let next = await current(), next != process, next.isRunning else { break }
                    process = next
                }
                if ContinuousClock.now - started >= healthy { backoff.reset() }
                await failed(process, nil)
            } catch {
                await failed(nil, error)
            }
            try? await Task.sleep(for: backoff.next())
        }
    }

    /// The last lines of a helper's log, for errors.
    public static func logTail(_ path: String?, lines: Int = 5) -> String {
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }
}
