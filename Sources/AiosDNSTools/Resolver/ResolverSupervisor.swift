import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging

/// Keeps the managed unbound running for as long as the daemon runs: starts it (or adopts the one
/// a previous daemon left running, after a restart of the daemon alone), restarts it with backoff
/// when it exits, and runs due blocklist refreshes through the pipeline (origin `schedule`).
/// Shutting the daemon down leaves unbound running (systemd `KillMode=process`): name resolution
/// does not stop while the daemon restarts.
struct ResolverSupervisor: BackgroundWork {
    let context: DNSContext
    let logger: Logger
    var name: String { "dns.resolver" }

    func run(calls: any ToolCalling) async throws {
        let settings = try await context.applyOverrides()
        // The resolver must have the stored lists and records before it serves.
        _ = try? await context.zones.sync(settings)
        // Attribution rows a crash kept from being written come back from the zone files.
        try? await context.rows.repair()
        try? await context.records.apply(try await context.store.dnsRecords(), changed: [])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await supervise() }
            group.addTask { await refreshLoop(calls: calls) }
        }
    }

    private func supervise() async {
        await HelperSupervisor.keepRunning {
            let settings = try await context.settings()
            let how = try await context.resolver.ensureRunning(settings)
            guard let process = await context.resolver.running else {
                throw AiosError(.unavailable, "unbound exited at once: \(context.resolver.logTail(3))")
            }
            if how != "running" {
                logger.info("resolver \(how): unbound pid \(process.pid) on \(settings.listenAddress):\(settings.port)")
                try? await context.store.record(
                    AuditEvent(
                        timestampMs: SystemClock().nowMs(), kind: "dns.resolver_\(how)", result: "ok",
                        detail: "unbound pid \(process.pid)"))
            }
            if how == "adopted" {
                try await repairAdopted(settings)
            } else if how != "running" {
                await context.zones.resolverRestarted()
            }
            return process
        } current: {
            // A big blocklist change replaced the process on purpose: the new one is watched.
            await context.resolver.running
        } failed: { exited, error in
            if let error {
                logger.error("the resolver is not running: \(error)")
                try? await context.store.record(
                    AuditEvent(
                        timestampMs: SystemClock().nowMs(), kind: "dns.resolver_failed", result: "error",
                        errorMessage: "\(error)"))
            } else if let exited {
                logger.error("unbound \(exited.pid) exited: \(context.resolver.logTail(3)); restarting")
            }
        }
    }

    /// An unbound left by a previous daemon, perhaps killed halfway through a load, is checked
    /// against the store and repaired (`BlockZones.verify`).
    private func repairAdopted(_ settings: DNSSettings) async throws {
        let report = try await context.zones.verify(settings)
        guard report.added + report.removed > 0 || report.replaced else { return }
        let detail =
            report.replaced
            ? "replaced by a new unbound with all \(report.zones) zones (a sample found some missing)"
            : "\(report.added) zones added, \(report.removed) removed in \(report.batches) batches"
        logger.warning("the adopted resolver did not hold what the store says: \(detail)")
        try? await context.store.record(
            AuditEvent(timestampMs: SystemClock().nowMs(), kind: "dns.zones_repaired", result: "ok", detail: detail))
    }

    private func refreshLoop(calls: any ToolCalling) async {
        while !Task.isCancelled {
            let now = SystemClock().nowMs()
            let lists = (try? await context.store.blocklists()) ?? []
            let due = lists.compactMap { list in list.refreshMs.map { (list.fetchedMs ?? list.createdMs) + $0 } }.min()
            if let due, due <= now {
                do {
                    _ = try await calls.execute(ToolCall(tool: BlocklistRefreshTool.descriptor.name, origin: .schedule))
                } catch {
                    logger.error("scheduled blocklist refresh failed: \(error)")
                }
            }
            let wait = due.map { max(1000, min($0 - now, 60_000)) } ?? 60_000
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }
}
