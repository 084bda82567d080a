import AiosCore
import Logging
import ServiceLifecycle

/// Runs one module's long-running work (`ToolModule.background`) as a service: started with the
/// daemon, cancelled at graceful shutdown. A failure is logged, not fatal for the daemon.
struct BackgroundService: Service {
    let work: any BackgroundWork
    let calls: any ToolCalling
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await work.run(calls: calls) }
        } catch is CancellationError {
        } catch {
            logger.error("\(work.name) stopped: \(error)")
        }
    }
}
