import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging
import ServiceLifecycle

/// systemd's watchdog (`WatchdogSec=`): while `WATCHDOG_USEC` is set, `WATCHDOG=1` every half
/// period — only after the store answered a read, so a daemon wedged on its database (or with a
/// starved scheduler) stops sending and systemd restarts it.
struct Watchdog: Service {
    let store: Store
    let environment: [String: String]
    let logger: Logger

    /// The period to send at, or nil when systemd does not watch (or watches another PID).
    static func interval(_ environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(micros / 2)
    }

    func run() async throws {
        guard let interval = Self.interval(environment) else { return }
        logger.info("systemd watchdog: WATCHDOG=1 every \(interval)")
        while !Task.isCancelledOrShuttingDown {
            if (try? await store.setting(Daemon.runningKey)) != nil {
                SystemdNotify.send("WATCHDOG=1", environment: environment)
            } else {
                logger.warning("the store did not answer: no WATCHDOG=1 this period")
            }
            try? await Task.sleep(for: interval)
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// Cancelled, or the service group began its graceful shutdown.
    static var isCancelledOrShuttingDown: Bool { isCancelled || isShuttingDownGracefully }
}
