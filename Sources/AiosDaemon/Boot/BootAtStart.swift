import AiosCore
import AiosGoals
import AiosLinux
import Logging
import ServiceLifecycle

/// `daemon --boot`: applies the Connectivity goal once the start's firewall restore has run and
/// the goal sources have been read, telling systemd what it does (`STATUS=`), then `READY=1`,
/// connected or not (a machine that stays offline still gets its daemon; the report says why).
struct BootAtStart: Service {
    let boot: DaemonBoot
    let options: DaemonOptions
    let firewallReady: AsyncGate
    let tools: Int
    let logger: Logger

    func run() async throws {
        let environment = options.environment
        SystemdNotify.send("STATUS=booting: restoring the firewall", environment: environment)
        await firewallReady.wait()
        if options.goalsDirectory != nil, let goals = boot.goals {
            SystemdNotify.send("STATUS=booting: reading the goals", environment: environment)
            await goals.sourcesRead.wait()
        }
        let report: BootReport
        do {
            let document = try await boot.document(text: nil, source: nil)
            report = await boot.run(
                document, resolvConf: options.resolvConf == "off" ? nil : options.resolvConf,
                timeoutMs: options.bootTimeoutMs
            ) { line in
                SystemdNotify.send("STATUS=booting: \(line)", environment: environment)
            }
        } catch {
            logger.error("boot: \(error)")
            SystemdNotify.send(
                "READY=1\nSTATUS=boot failed: \(error); serving \(tools) tools", environment: environment)
            return
        }
        let summary =
            report.ok
            ? "connected in \(report.totalMs) ms"
            : "not connected: \(report.problems.first ?? "a check failed")"
        SystemdNotify.send("READY=1\nSTATUS=\(summary); serving \(tools) tools", environment: environment)
    }
}
