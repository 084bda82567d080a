import AiosLinux
import AiosTesting
import Foundation
import Synchronization
import Testing

/// The one supervisor of helper programs, with real child processes (`/bin/sh`) and the ledger in
/// memory: start, ready with a deadline, exit at start, adoption, stop, restart with backoff.
@Suite("Helper supervisor")
struct HelperSupervisorTests {
    /// Deadlines for what must happen (not waits): the suite's root tests block cooperative
    /// threads for long stretches (their lab helpers are synchronous), starving these tasks.
    static let patience: Duration = .seconds(300)
    let ledger = FakeHelperLedger()
    var supervisor: HelperSupervisor { HelperSupervisor(ledger: ledger, nowMs: { 42 }) }
    let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aios-helpers-\(UUID().uuidString)")
            .path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func shell(_ script: String) -> ChildSpec {
        ChildSpec(executable: "/bin/sh", arguments: ["-c", script], logPath: directory + "/log")
    }

    @Test("waits until ready, records the process before the wait ends, stops and forgets it")
    func startReadyStop() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = directory + "/ready"
        let ledger = ledger
        let recordedBeforeReady = Mutex(false)
        let process = try await supervisor.start(
            "sleeper", shell("sleep 0.1; touch \(marker); exec sleep 600"), fingerprint: "f1", installHint: "-",
            within: Self.patience
        ) { process in
            if ledger.record("sleeper")?.pid == process.pid { recordedBeforeReady.withLock { $0 = true } }
            return FileManager.default.fileExists(atPath: marker)
        }
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(recordedBeforeReady.withLock { $0 })
        #expect(process.isRunning)
        #expect(ledger.record("sleeper")?.fingerprint == "f1")
        #expect(ledger.record("sleeper")?.startedMs == 42)
        #expect(await supervisor.adopt("sleeper")?.process == process)
        await supervisor.stop(process, grace: 1)
        #expect(!process.isRunning)
        #expect(ledger.record("sleeper") == nil)
        #expect(await supervisor.adopt("sleeper") == nil)
    }

    @Test("a process that exits at start fails with the end of its log")
    func exitsAtStart() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try await supervisor.start(
                "quitter", shell("echo boom-at-start; exit 3"), installHint: "-", within: Self.patience
            ) { _ in
                false
            }
            Issue.record("expected a failure")
        } catch {
            guard case .exited(let log) = error.reason else {
                Issue.record("wrong reason: \(error)")
                return
            }
            #expect(log.contains("boom-at-start"))
            #expect(error.description.hasPrefix("sh exited at start"))
        }
    }

    @Test("a process not ready by the deadline is stopped")
    func notReady() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pid = Mutex<Int32>(0)
        do {
            _ = try await supervisor.start(
                "slow", shell("exec sleep 600"), installHint: "-", within: .milliseconds(150)
            ) { process in
                pid.withLock { $0 = process.pid }
                return false
            }
            Issue.record("expected a failure")
        } catch {
            guard case .notReady = error.reason else {
                Issue.record("wrong reason: \(error)")
                return
            }
        }
        let started = pid.withLock { $0 }
        #expect(started > 0)
        #expect(!ChildProcess.isRunning(started))
    }

    @Test("a missing program says how to install it")
    func notInstalled() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spec = ChildSpec(executable: "/nonexistent/helperd", arguments: [])
        await #expect {
            _ = try await supervisor.start("x", spec, installHint: "apt-get install helperd")
        } throws: { error in
            "\(error)" == "helperd is not installed; apt-get install helperd"
        }
        #expect(ledger.record("x") == nil)
    }

    @Test("adoption keeps live processes and forgets the records of dead ones")
    func adoptAll() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let live = try await supervisor.start("dhcpcd:eth0", shell("exec sleep 600"), installHint: "-")
        let dead = try await supervisor.start("dhcpcd:eth1", shell("exit 0"), installHint: "-")
        #expect(await Poll.until(seconds: 300) { () async -> Bool in !dead.isRunning })
        try await ledger.saveHelper(
            HelperRecord(
                name: "unbound", pid: live.pid, startTicks: live.startTicks, command: "", fingerprint: nil,
                startedMs: 0))
        let adopted = await supervisor.adoptAll(prefix: "dhcpcd:")
        #expect(adopted == ["eth0": live])
        #expect(ledger.record("dhcpcd:eth1") == nil)
        #expect(ledger.record("unbound") != nil)
        // A record whose PID now names another process (start ticks differ) is not adopted.
        try await ledger.saveHelper(
            HelperRecord(
                name: "dhcpcd:eth2", pid: live.pid, startTicks: live.startTicks + 1, command: "", fingerprint: nil,
                startedMs: 0))
        #expect(await supervisor.adoptAll(prefix: "dhcpcd:").keys.sorted() == ["eth0"])
        await supervisor.stop(live, grace: 1)
    }

    @Test("keepRunning restarts a helper that exits, with growing delays, until cancelled")
    func keepRunning() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let supervisor = supervisor
        let spec = shell("exit 1")
        let starts = Mutex<[ContinuousClock.Instant]>([])
        let exits = Mutex(0)
        let task = Task {
            await HelperSupervisor.keepRunning(
                backoff: Backoff(initial: .milliseconds(40), cap: .milliseconds(160))
            ) {
                starts.withLock { $0.append(.now) }
                return try await supervisor.start("crasher", spec, installHint: "-")
            } current: {
                nil
            } failed: { exited, error in
                if exited != nil, error == nil { exits.withLock { $0 += 1 } }
            }
        }
        // Generous: a busy machine (the whole suite in parallel) may starve this task for a while.
        #expect(await Poll.until(seconds: 300) { () async -> Bool in starts.withLock { $0.count } >= 5 })
        task.cancel()
        await task.value
        let times = starts.withLock { $0 }
        try #require(times.count >= 5, "only \(times.count) starts")
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(exits.withLock { $0 } >= 4)
        // 40, 80, 160, 160 ms: each wait at least the backoff's delay.
        #expect(gaps[0] >= .milliseconds(40))
        #expect(gaps[1] >= .milliseconds(80))
        #expect(gaps[2] >= .milliseconds(160))
        #expect(gaps[3] >= .milliseconds(160))
    }

    @Test("backoff doubles to its cap, jitter only shortens, reset starts over")
    func backoff() {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var plain = Backoff(initial: .milliseconds(100), cap: .seconds(1))
        #expect((0..<6).map { _ in plain.next() } == [100, 200, 400, 800, 1000, 1000].map { .milliseconds($0) })
        plain.reset()
        #expect(plain.next() == .milliseconds(100))
        var jittered = Backoff(initial: .seconds(1), cap: .seconds(8), jitter: 0.5)
        for expected in [1, 2, 4, 8, 8] {
            let delay = jittered.next()
            #expect(delay <= .seconds(expected) && delay >= .seconds(expected) / 2)
        }
    }
}
