import Foundation
public import Logging

/// Runs every tool call through the one pipeline:
/// validate → policy gate → plan → (dry run stops) → apply → verify → audit,
/// with disruptive changes guarded (guard row written before apply; probe or confirmation; rollback).
///
/// It runs the pipeline and nothing else: transport, scheduling and assembly live elsewhere.
/// Safe to call concurrently; the tools themselves serialise what must not overlap.
public struct Orchestrator: Sendable {
    /// The tools this orchestrator can run.
    public let registry: ToolRegistry
    /// The policy in force.
    public let policies: PolicyHolder
    /// The one redaction function.
    public let redactor: Redactor
    let audit: any AuditSink
    let guards: any GuardStore
    let clock: any Clock
    let logger: Logger
    let observer: (any CallObserver)?

    /// Assembles a pipeline.
    public init(
        registry: ToolRegistry, policies: PolicyHolder, audit: any AuditSink, guards: any GuardStore,
        clock: any Clock = SystemClock(), redactor: Redactor = Redactor(), observer: (any CallObserver)? = nil,
        logger: Logger
    ) {
        self.observer = observer
        self.registry = registry
        self.policies = policies
        self.audit = audit
        self.guards = guards
        self.clock = clock
        self.redactor = redactor
        self.logger = logger
    }

    /// Runs one call through the pipeline and writes its audit row.
    /// - Returns: what happened; the output has secrets redacted.
    /// - Throws: `AiosError`: `.notFound` (unknown tool), `.invalidInput` (naming the field),
    ///   `.policyDenied`, `.needsConfirmation`, `.rolledBack`, or the tool's own error. Every
    ///   refusal and failure is audited too.
    public func execute(_ call: ToolCall) async throws -> CallOutcome {
        try await execute(call, progress: { _ in })
    }

    /// Runs one call through the pipeline, reporting the tool's progress to `progress`. Work the
    /// call leaves for afterwards goes to `deferring` when given (the caller starts it once it has
    /// delivered the answer); otherwise it starts once the audit row is written.
    public func execute(
        _ call: ToolCall, progress: @escaping @Sendable (CallProgress) -> Void, deferring: DeferredWork? = nil
    ) async throws -> CallOutcome {
        var call = call
        let started = ContinuousClock.now
        var decision: PolicyDecision?
        var diff: [Change] = []
        let descriptor = registry.descriptor(named: call.tool)
        do {
            let tool = try resolve(&call)
            let policy = policies.policy
            let verdict = try gate(call, tool.descriptor, policy: policy, decision: &decision)
            // A call that needs confirmation is planned first all the same: planning validates the
            // input, so bad input says what is wrong instead of asking for a --yes it would fail with.
            let unconfirmed = verdict.verdict == .confirm && !call.confirmed && !call.dryRun
            let callLogger = logger(for: call)
            let context = ToolContext(
                origin: call.origin, callID: call.id, limits: policy.limits, clock: clock, logger: callLogger,
                progress: progress)
            let plan = try await tool.plan(call.input, context)
            diff = plan.diff
            if unconfirmed {
                throw AiosError(
                    .needsConfirmation, "\(call.tool) needs confirmation (\(verdict.reason)); run it again with --yes")
            }
            try checkProtection(plan, call: call, policy: policy, decision: &decision)
            // A change the tool itself marks as able to cut connectivity is gated and guarded as disruptive.
            let disruptive = tool.descriptor.effect == .disruptive || plan.disruptive
            if plan.disruptive && tool.descriptor.effect != .disruptive && plan.changes {
                try gateEscalated(call, tool.descriptor, policy: policy, decision: &decision)
            }
            let (status, output, guardSummary) = try await run(
                plan, call: call, effect: tool.descriptor.effect, disruptive: disruptive, policy: policy,
                logger: callLogger)
            var outcome = CallOutcome(
                callID: call.id, tool: call.tool, origin: call.origin, status: status, decision: decision ?? verdict,
                diff: diff,
                output: output.map { redactor.redact($0) }, guardState: guardSummary,
                durationMicros: micros(since: started))
            let applied = plan.changes && !call.dryRun && (status == .applied || status == .awaitingConfirmation)
            if applied { outcome.followUps = await runFollowUps(plan.followUps, after: call) }
            await write(
                auditEvent(
                    for: call, descriptor: tool.descriptor, decision: decision ?? verdict, diff: diff,
                    result: status.rawValue,
                    error: nil, duration: outcome.durationMicros))
            finish(plan, applied: plan.changes && (status == .applied || status == .awaitingConfirmation), deferring)
            if applied, let observer { await observer.applied(call) }
            return outcome
        } catch {
            let failure = Self.wrap(error)
            await write(
                auditEvent(
                    for: call, descriptor: descriptor, decision: decision, diff: diff, result: "error", error: failure,
                    duration: micros(since: started)))
            throw failure
        }
    }

    /// Maps any error to `AiosError`, keeping the cause.
    static func wrap(_ error: any Error) -> AiosError {
        if let aios = error as? AiosError { return aios }
        if error is CancellationError { return AiosError(.failed, "the call was cancelled", cause: error) }
        return AiosError(.failed, "\(error)", cause: error)
    }

    func micros(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
    }

    func write(_ event: AuditEvent) async {
        do {
            try await audit.record(event)
        } catch {
            logger.error("could not write the audit event for \(event.kind) \(event.tool ?? ""): \(error)")
        }
    }

    private func auditEvent(
        for call: ToolCall, descriptor: ToolDescriptor?, decision: PolicyDecision?, diff: [Change], result: String,
        error: AiosError?, duration: Int64
    ) -> AuditEvent {
        // Batches can hold 100k entries: keep the first few of each long list (with a count of the
        // rest) before redacting, so a big call costs the audit little.
        var input =
            call.rawInput.map { redactor.redact(String($0.prefix(512))) }
            ?? redactor.redact(call.input.abbreviated(keeping: 20), schema: descriptor?.inputSchema).jsonText
        // Batches can be megabytes (100k firewall entries); the audit keeps the head and the size.
        let limit = 16_384
        if input.utf8.count > limit {
            input = String(decoding: input.utf8.prefix(limit), as: UTF8.self) + "… (\(input.utf8.count) bytes in all)"
        }
        return AuditEvent(
            timestampMs: clock.nowMs(), kind: call.dryRun ? "call.dry_run" : "call", callID: call.id,
            origin: call.origin.rawValue, tool: call.tool, input: input, decision: decision?.verdict.rawValue,
            reason: decision?.reason, result: result, errorCode: error?.code.description,
            errorMessage: error.map { redactor.redact($0.description) }, durationMicros: duration,
            detail: diff.isEmpty ? nil : redactor.redact(diff.map(\.description).joined(separator: "\n")),
            subject: call.subject)
    }
}
