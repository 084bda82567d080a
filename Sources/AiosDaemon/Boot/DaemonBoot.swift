import AiosCore
import AiosGoals
import AiosStore
import Foundation
import Logging

/// Boot in the daemon: which Connectivity goal, one boot at a time, the report audited.
struct DaemonBoot: Sendable {
    let orchestrator: Orchestrator
    let store: Store
    let kinds: GoalKinds?
    let goals: GoalReconciler?
    let logger: Logger
    let lock: AsyncLock

    /// The Connectivity goal used when neither a file nor the goals directory gives one: every
    /// physical link on DHCP with the reasoned fallback, the gateway ping as the check.
    static let defaultGoal = "kind: Connectivity\nname: boot\nspec: {}\n"

    /// The goal to apply: `text` (from `--goal FILE`, `source` naming it), else the Connectivity
    /// goal of the goals directory, else the default one.
    func document(text: String?, source: String?) async throws -> GoalDocument {
        guard let kinds else { throw AiosError(.unavailable, "this daemon runs without goals") }
        if let text {
            let documents = try GoalFile.parse(text, file: source ?? "boot goal", kinds: kinds)
            let connectivity = documents.filter { $0.kind == "Connectivity" }
            guard connectivity.count == 1 else {
                throw AiosError(
                    .invalidInput,
                    "\(source ?? "the boot goal") must hold exactly one Connectivity goal (it has \(connectivity.count))",
                    location: InputLocation(file: source, field: "kind"))
            }
            return connectivity[0]
        }
        if let declared = await goals?.desiredDocuments().first(where: { $0.kind == "Connectivity" }) {
            return declared
        }
        return try GoalFile.parse(Self.defaultGoal, file: "built-in boot goal", kinds: kinds)[0]
    }

    /// Boots with `document` and records the report as a `boot.report` audit event.
    func run(
        _ document: GoalDocument, resolvConf: String?, timeoutMs: Int64, status: @escaping @Sendable (String) -> Void
    ) async -> BootReport {
        await lock.withLock {
            // The reconciler leaves Connectivity goals to boot meanwhile: one hand on the links.
            await goals?.hold("Connectivity")
            let runner = BootRunner(calls: orchestrator, clock: SystemClock(), status: status)
            let report = await runner.run(document, resolvConf: resolvConf, timeoutMs: timeoutMs)
            await goals?.release("Connectivity")
            let text = (try? JSONValue(encoding: report).jsonText) ?? "{}"
            try? await store.record(
                AuditEvent(
                    timestampMs: SystemClock().nowMs(), kind: "boot.report", origin: "boot",
                    result: report.ok ? "ok" : "error", durationMicros: report.totalMs * 1000,
                    detail: text, subject: "goal:\(document.name)"))
            logger.log(
                level: report.ok ? .info : .warning,
                "boot \(report.ok ? "connected" : "not connected") in \(report.totalMs) ms\(report.changed ? "" : ", nothing changed")\(report.problems.isEmpty ? "" : ": " + report.problems.joined(separator: "; "))"
            )
            return report
        }
    }
}
