import AiosCore
import AiosFirewallTools
import Logging
import ServiceLifecycle

/// Reports firewall rules as they expire (the kernel enforces the expiry; this writes the events).
struct FirewallExpiryService: Service {
    let reporter: FirewallExpiryReporter
    let clock: any Clock
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var wait: Int64 = 5000
                do {
                    if let next = try await reporter.reportExpired() { wait = min(wait, max(20, next - clock.nowMs())) }
                } catch {
                    logger.error("firewall expiry reporter: \(error)")
                }
                try await clock.sleep(milliseconds: wait)
            }
        }
    }
}
