import AiosControl
public import AiosCore
import AiosFirewallTools
import AiosGoals
import AiosLinux
import AiosNftables
import AiosStore
import Foundation
public import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon: assembles store, policy, registry and orchestrator, finishes any rollback a
/// previous run left open, then serves the control socket and watches guard deadlines until
/// SIGTERM/SIGINT (graceful, bounded by a time limit).
public struct Daemon: Sendable {
    let options: DaemonOptions
    let redactor: Redactor
    let logger: Logger

    /// Creates a daemon. `redactor` must be the one the process's log handler uses.
    public init(options: DaemonOptions, redactor: Redactor, logger: Logger) {
        self.options = options
        self.redactor = redactor
        self.logger = logger
    }

    /// Runs until a shutdown signal.
    /// - Throws: `AiosError` when the database, the policy or the socket cannot be set up.
    public func run() async throws {
        let clock = SystemClock()
        let startedMs = clock.nowMs()
        // Before anything reads or writes the state: a second daemon on the same data directory
        // would roll back the first one's open guards and reconcile its firewall at start.
        let lock = try await Self.lock(dataDirectory: options.dataDirectory, logger: logger)
        defer { withExtendedLifetime(lock) {} }
        let store = try Store(dataDirectory: options.dataDirectory)
        let policy = try PolicyLoader.load(path: options.policyPath)
        let nft: Nftables
        do {
            nft = try Nftables(retainMemoryFor: .seconds(30))
        } catch {
            throw AiosError(.unavailable, "cannot create a libnftables context: \(error)", cause: error)
        }
        var tools = try Assembly.registry(options, store: store, nft: nft, redactor: redactor, logger: logger)
        let goals = try Assembly.installGoals(options, into: &tools, store: store, clock: clock, logger: logger)
        let registry = tools
        let orchestrator = Orchestrator(
            registry: registry, policies: PolicyHolder(policy), audit: store, guards: store, clock: clock,
            redactor: redactor, observer: goals, logger: logger)
        try await store.record(
            AuditEvent(
                timestampMs: startedMs, kind: "daemon.started", result: "ok",
                detail:
                    "pid \(getpid()); \(registry.descriptors.count) tools; policy \(options.policyPath ?? "built-in default")"
            ))

        // First of all, before a rollback or a restore lists aios-net's table through
        // libnftables: an element it cannot list ends the process that lists (an assertion).
        await startStep("firewall.reconcile", ["quarantine": true], orchestrator)
        for record in try await orchestrator.recoverOpenGuards() {
            logger.warning(
                "guard \(record.id) for \(record.tool) was left open by a previous run: \(record.state.rawValue)")
        }
        // A run that did not stop cleanly may have died between a change's kernel transaction and
        // its rows: the firewall's entry sets are then checked against the stored rules (the
        // elements right are left alone, so no timer is reset).
        let previous = try await store.setting(Self.runningKey)
        try await store.setSetting(
            Self.runningKey, ["pid": .number(Double(getpid())), "started_ms": .number(Double(startedMs))])
        if let previous {
            logger.warning(
                "the previous run (pid \(previous["pid"]?.intValue ?? 0)) did not stop cleanly: checking the firewall's entry sets against the stored rules"
            )
        }
        let reporter = FirewallExpiryReporter(store: store, clock: clock)
        _ = try? await reporter.reportExpired()
        // After a reboot the kernel lost aios-net's table: what was in force is put back (remaining
        // lifetimes only), and after a crash the entry sets are checked — 100k rules take seconds.
        // That runs once the socket serves; calls that touch the firewall wait for it.
        let firewallReady = AsyncGate()
        let restore = StartRestore(
            entries: previous != nil, gate: firewallReady,
            steps: { tool, input in
                await startStep(tool, input, orchestrator)
            })

        // An error from here on ends the run in order (a bad --control-group, the socket taken):
        // not a crash, so the next start need not check the entry sets.
        let environment = options.environment
        do {
            var allowedGroup: UInt32?
            if let group = options.controlGroup {
                guard let gid = ProcessGroups.gid(named: group) else {
                    throw AiosError(
                        .invalidInput, "no group named \(group)", location: InputLocation(field: "--control-group"))
                }
                allowedGroup = gid
            }
            let boot = DaemonBoot(
                orchestrator: orchestrator, store: store, kinds: goals.goalKinds, goals: goals, logger: logger,
                lock: AsyncLock())
            let handler = RequestHandler(
                orchestrator: orchestrator, store: store, options: options, startedMs: startedMs,
                firewallReady: firewallReady, goalKinds: goals.goalKinds, boot: boot, logger: logger)
            let options = options
            let server = ControlServer(
                path: options.socketPath, handler: handler, allowedGroup: allowedGroup,
                onReady: {
                    // With --boot, READY=1 waits for the boot goal (BootAtStart).
                    guard !options.boot else { return }
                    SystemdNotify.send(
                        "READY=1\nSTATUS=serving \(registry.descriptors.count) tools", environment: environment)
                },
                logger: logger)
            let watcher = GuardWatcher(orchestrator: orchestrator, clock: clock, logger: logger)
            var configuration = ServiceGroupConfiguration(
                services: [
                    .init(service: server), .init(service: restore, successTerminationBehavior: .ignore),
                    .init(service: watcher),
                    .init(service: FirewallExpiryService(reporter: reporter, clock: clock, logger: logger)),
                    .init(
                        service: Watchdog(store: store, environment: environment, logger: logger),
                        successTerminationBehavior: .ignore),
                ]
                    + (options.boot
                        ? [
                            .init(
                                service: BootAtStart(
                                    boot: boot, options: options, firewallReady: firewallReady,
                                    tools: registry.descriptors.count, logger: logger),
                                successTerminationBehavior: .ignore)
                        ] : [])
                    + registry.background.map {
                        .init(service: BackgroundService(work: $0, calls: orchestrator, logger: logger))
                    }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            configuration.maximumGracefulShutdownDuration = .seconds(10)
            let group = ServiceGroup(configuration: configuration)
            try await group.run()
        } catch {
            try? await store.removeSetting(Self.runningKey)
            throw error
        }
        SystemdNotify.send("STOPPING=1", environment: environment)
        // Work left running off the calls' paths (a cache catching up, rows being written out).
        await OwnedTasks.shared.shutdown()
        try? await store.record(AuditEvent(timestampMs: clock.nowMs(), kind: "daemon.stopped", result: "ok"))
        try? await store.removeSetting(Self.runningKey)
        logger.info("daemon stopped")
    }

    /// Runs one step of the start (origin `restore`, which every policy allows), logging what it did; a failure is
    /// logged and the start goes on (the daemon serves, and `firewall.status` shows the state).
    private func startStep(_ tool: String, _ input: JSONValue, _ orchestrator: Orchestrator) async {
        do {
            let outcome = try await orchestrator.execute(ToolCall(tool: tool, input: input, origin: .restore))
            if outcome.status == .applied, input["quarantine"] == nil {
                logger.info("\(tool): restored or repaired from the store")
            }
            for rule in outcome.output?["quarantined"]?.arrayValue ?? [] {
                logger.error(
                    "firewall rule \(rule["id"]?.stringValue ?? "?") quarantined, not restored: \(rule["reason"]?.stringValue ?? "")"
                )
            }
        } catch {
            logger.error("\(tool) could not restore the recorded state: \(error)")
        }
    }

    /// Setting present while a daemon runs; found at start, it says the last run did not stop cleanly.
    static let runningKey = "daemon.running"

    /// The data directory's lock (`daemon.lock`), held for the process's life; the kernel drops
    /// it when the process ends, however it ends — once its last thread has exited. A killed
    /// daemon with 100k rules in memory takes a moment to free it, while it already shows as
    /// gone: its lock is waited for (up to `lockWait`); a live holder's is refused at once.
    static func lock(dataDirectory: String, logger: Logger) async throws -> DirectoryLock {
        let path = (dataDirectory as NSString).appendingPathComponent("daemon.lock")
        let deadline = ContinuousClock.now + lockWait
        var waiting = false
        while true {
            do {
                try FileManager.default.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                return try DirectoryLock(path: path)
            } catch let error as SystemCallError where error.errno == EWOULDBLOCK {
                let holder = DirectoryLock.holder(path: path)
                guard let holder, !ChildProcess.isRunning(holder), ContinuousClock.now < deadline else {
                    throw AiosError(
                        .unavailable,
                        "another aios-net daemon is using the data directory \(dataDirectory) (\(error.operation)); stop it first, or give this one its own --data-dir",
                        cause: error)
                }
                if !waiting {
                    logger.warning("the previous daemon (pid \(holder)) is still exiting; waiting for its lock")
                    waiting = true
                }
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                throw AiosError(
                    .unavailable,
                    "cannot lock the data directory \(dataDirectory): \(error); pick another with --data-dir",
                    cause: error)
            }
        }
    }

    /// How long a start waits for an exiting daemon's lock.
    static let lockWait: Duration = .seconds(30)
}
