import Foundation
import Logging

/// The pipeline's steps, in the order `execute` takes them.
extension Orchestrator {
    /// Validate: the tool by name, the input parsed (when it came as text) and checked against
    /// the tool's schema; secret input values registered with the redactor first.
    /// - Throws: `.notFound` for an unknown tool, `.invalidInput` naming the field.
    func resolve(_ call: inout ToolCall) throws -> RegisteredTool {
        guard let tool = registry.tool(named: call.tool) else {
            throw AiosError(
                .notFound, "no tool named \(call.tool); `aios-net tools` lists the tools",
                location: InputLocation(field: "tool"))
        }
        if let text = call.rawInput {
            call.input = try JSONValue(parsing: text.isEmpty ? "{}" : text)
            call.rawInput = nil
        }
        for secret in tool.descriptor.inputSchema.secretValues(in: call.input) { redactor.register(secret) }
        try tool.descriptor.inputSchema.validate(call.input)
        return tool
    }

    /// Policy gate: what the policy says of this origin running this tool (kept in `decision`
    /// for the audit row, a deny too).
    /// - Throws: `.policyDenied` when it denies.
    func gate(_ call: ToolCall, _ descriptor: ToolDescriptor, policy: Policy, decision: inout PolicyDecision?)
        throws -> PolicyDecision
    {
        let verdict = policy.decide(origin: call.origin, tool: descriptor)
        decision = verdict
        if verdict.verdict == .deny {
            throw AiosError(.policyDenied, "policy denies \(call.origin) running \(call.tool): \(verdict.reason)")
        }
        return verdict
    }

    /// The gate again for a change the tool marks as able to cut connectivity: as a disruptive one.
    /// - Throws: `.policyDenied`, or `.needsConfirmation` when it is not confirmed.
    func gateEscalated(
        _ call: ToolCall, _ descriptor: ToolDescriptor, policy: Policy, decision: inout PolicyDecision?
    ) throws {
        var escalated = descriptor
        escalated.effect = .disruptive
        let again = policy.decide(origin: call.origin, tool: escalated)
        decision = again
        switch again.verdict {
        case .deny:
            throw AiosError(
                .policyDenied,
                "this \(call.tool) can cut connectivity (disruptive) and policy denies that: \(again.reason)")
        case .confirm where !call.confirmed && !call.dryRun:
            throw AiosError(
                .needsConfirmation,
                "this \(call.tool) can cut connectivity, so it is disruptive (\(again.reason)); run it again with --yes"
            )
        case .allow, .confirm:
            return
        }
    }

    /// Refuses a plan that would remove or shadow a protected item (audited as a deny).
    func checkProtection(_ plan: ErasedPlan, call: ToolCall, policy: Policy, decision: inout PolicyDecision?)
        throws
    {
        guard let hit = policy.protection(for: plan.touches) else { return }
        let name = hit.item.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: " ")
        decision = PolicyDecision(.deny, "protected \(hit.item.kind): \(hit.pattern.reason)")
        throw AiosError(
            .policyDenied,
            "refused: \(call.tool) would remove or shadow a protected \(hit.item.kind) (\(name)): \(hit.pattern.reason)"
        )
    }

    /// Apply (and verify, inside the plan's `apply`): nothing for a dry run, the read or the
    /// unchanged plan's own step, a disruptive change under the guard, any other change as it is.
    func run(
        _ plan: ErasedPlan, call: ToolCall, effect: Effect, disruptive: Bool, policy: Policy, logger: Logger
    ) async throws -> (status: CallOutcome.Status, output: JSONValue?, guardSummary: GuardSummary?) {
        let result: (CallOutcome.Status, JSONValue?, GuardSummary?)
        if call.dryRun {
            result = (.planned, nil, nil)
        } else if !plan.changes {
            result = (effect == .read ? .read : .unchanged, try await plan.apply(), nil)
        } else if disruptive && call.origin != .rollback {
            let guarded = try await applyGuarded(plan, call: call, policy: policy, logger: logger)
            result = (
                guarded.summary.state == .pending ? .awaitingConfirmation : .applied, guarded.output, guarded.summary
            )
        } else {
            result = (.applied, try await plan.apply(), nil)
        }
        if plan.changes && !call.dryRun {
            logger.info("applied \(call.tool): \(plan.diff.map(\.description).joined(separator: "; "))")
        }
        return result
    }

    /// The calls a change asks for after it (a static address's DNS servers), each through the
    /// whole pipeline with the same origin; a failed one is reported, never thrown.
    func runFollowUps(_ requests: [CallRequest], after call: ToolCall) async -> [FollowUp] {
        var out: [FollowUp] = []
        for request in requests {
            do {
                let done = try await execute(
                    ToolCall(tool: request.tool, input: request.input, origin: call.origin, confirmed: call.confirmed))
                out.append(FollowUp(tool: request.tool, status: done.status.rawValue, error: nil))
            } catch {
                out.append(FollowUp(tool: request.tool, status: "error", error: "\(error)"))
            }
        }
        return out
    }

    /// After the audit row: the work the change left for afterwards (to `deferring` when given),
    /// and the plan freed off the caller's path (a big change's holds its whole batch).
    func finish(_ plan: ErasedPlan, applied: Bool, _ deferring: DeferredWork?) {
        if let afterward = plan.afterward, applied {
            if let deferring { deferring.add(afterward) } else { OwnedTasks.shared.run { await afterward() } }
        }
        OwnedTasks.shared.run(priority: .background) { withExtendedLifetime(plan) {} }
    }

    /// The logger of one call: its id, tool and origin as metadata.
    func logger(for call: ToolCall) -> Logger {
        var callLogger = logger
        callLogger[metadataKey: "aios.call"] = "\(call.id)"
        callLogger[metadataKey: "aios.tool"] = "\(call.tool)"
        callLogger[metadataKey: "aios.origin"] = "\(call.origin)"
        return callLogger
    }
}
