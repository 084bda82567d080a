import AiosCore
import AiosGoals
import AiosLinux
import Logging
import ServiceLifecycle
import Synchronization

/// `daemon --boot`: applies the Connectivity goal once the start's firewall restore has run and
/// the goal sources have been read, telling systemd what it does (`STATUS=`), then `READY=1`,
/// connected or not (a machine that stays offline still gets its daemon; the report says why).
struct BootAtStart: Service {
    let boot: DaemonBoot
    let options: DaemonOptions
    let firewallReady: AsyncGate
    let tools: Int
    let logger: Logger

    /// How long boot waits for the goal sources' first reading.
    static let sourcesWait: Duration = .seconds(5)

    func run() async throws {
        let environment = options.environment
        SystemdNotify.send("STATUS=booting: restoring the firewall", environment: environment)
        await firewallReady.wait()
        if options.goalsDirectory != nil, let goals = boot.goals {
            SystemdNotify.send("STATUS=booting: reading the goals", environment: environment)
            // A goals directory that cannot be read must not hold READY=1 back: after a few
            // seconds boot goes on with the default goal (the source logs why).
            let deadline = ContinuousClock.now + Self.sourcesWait
            while !goals.sourcesRead.isOpen, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            let read = goals.sourcesRead.isOpen
            if !read {
                logger.warning("boot: the goal sources were not read within \(Self.sourcesWait); booting without them")
            }
        }
        let document: GoalDocument
        do {
            document = try await boot.document(text: nil, source: nil)
        } catch {
            logger.error("boot: \(error)")
            SystemdNotify.send(
                "READY=1\nSTATUS=boot failed: \(error); serving \(tools) tools", environment: environment)
            return
        }
        // The boot runs on; READY=1 comes when it ends or at --boot-timeout, whichever is first
        // (a guard window or a slow DHCP server must not hold the unit in "activating").
        let outcome = Mutex<BootReport?>(nil)
        let boot = boot
        let options = options
        let work = Task {
            let report = await boot.run(
                document, resolvConf: options.resolvConf == "off" ? nil : options.resolvConf,
                timeoutMs: options.bootTimeoutMs
            ) { line in
                SystemdNotify.send("STATUS=booting: \(line)", environment: environment)
            }
            outcome.withLock { $0 = report }
        }
        let deadline = ContinuousClock.now + .milliseconds(options.bootTimeoutMs)
        while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard let report = outcome.withLock({ $0 }) else {
            logger.warning("boot: still running after --boot-timeout; READY=1 all the same")
            SystemdNotify.send(
                "READY=1\nSTATUS=boot still running after \(options.bootTimeoutMs / 1000) s; serving \(tools) tools",
                environment: environment)
            _ = await work.value
            return
        }
        let summary =
            report.ok
            ? "connected in \(report.totalMs) ms"
            : "not connected: \(report.problems.first ?? "a check failed")"
        SystemdNotify.send("READY=1\nSTATUS=\(summary); serving \(tools) tools", environment: environment)
    }
}
