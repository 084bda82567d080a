import Foundation
import Logging

extension Orchestrator {
    /// Applies a disruptive plan under a guard: the guard row (inverse, probe, deadline) is durable
    /// before anything changes; then the probe must pass inside the window, or the inverse runs.
    /// Without a probe the change waits for `confirmGuard` until the deadline.
    func applyGuarded(
        _ plan: ErasedPlan, call: ToolCall, policy: Policy, logger: Logger
    ) async throws -> (output: JSONValue, summary: GuardSummary) {
        guard let inverse = plan.inverse else {
            throw AiosError(
                .internal, "\(call.tool) planned a disruptive change without an inverse; refusing to apply it unguarded"
            )
        }
        let probe = call.guardOptions?.probe ?? plan.probe ?? policy.guardDefaults.probe
        if let probe {
            guard let descriptor = registry.descriptor(named: probe.tool) else {
                throw AiosError(
                    .invalidInput, "guard probe \(probe.tool) is not a tool",
                    location: InputLocation(field: "guard.probe"))
            }
            guard descriptor.effect == .read else {
                throw AiosError(
                    .invalidInput, "guard probe \(probe.tool) must be a read tool",
                    location: InputLocation(field: "guard.probe"))
            }
        }
        let window = call.guardOptions?.windowMs ?? policy.guardDefaults.windowMs
        guard GuardDefaults.windowRange.contains(window) else {
            throw AiosError(
                .invalidInput,
                "a guard window of \(DurationText.format(milliseconds: window)) is outside \(DurationText.format(milliseconds: GuardDefaults.windowRange.lowerBound))–\(DurationText.format(milliseconds: GuardDefaults.windowRange.upperBound))",
                location: InputLocation(field: "guard.window"))
        }
        let now = clock.nowMs()
        let record = GuardRecord(
            id: UUID().uuidString.lowercased(), callID: call.id, tool: call.tool, origin: call.origin, inverse: inverse,
            probe: probe, createdMs: now, deadlineMs: now + window)
        try await guards.open(record)
        logger.info(
            "guard \(record.id) opened for \(call.tool): deadline in \(DurationText.format(milliseconds: window))")

        let output: JSONValue
        do {
            output = try await plan.apply()
        } catch {
            await rollBack(
                record, from: [.pending], reason: "the change failed while being applied: \(Self.wrap(error).message)")
            throw error
        }

        guard let probe else {
            return (output, GuardSummary(id: record.id, state: .pending, deadlineMs: record.deadlineMs, probe: nil))
        }
        if await probePasses(probe, until: record.deadlineMs, interval: policy.guardDefaults.probeIntervalMs) {
            if try await guards.transition(
                id: record.id, from: [.pending], to: .confirmed, note: "probe \(probe.tool) passed")
            {
                await write(
                    guardEvent(
                        record, kind: "guard.confirmed", result: "confirmed", reason: "probe \(probe.tool) passed"))
                return (
                    output, GuardSummary(id: record.id, state: .confirmed, deadlineMs: record.deadlineMs, probe: probe)
                )
            }
        }
        let reason = "probe \(probe) did not pass within \(DurationText.format(milliseconds: window))"
        let state = await rollBack(record, from: [.pending], reason: reason)
        if state == .confirmed {
            return (output, GuardSummary(id: record.id, state: .confirmed, deadlineMs: record.deadlineMs, probe: probe))
        }
        throw AiosError(
            .rolledBack,
            state == .rolledBack
                ? "\(call.tool) was applied and rolled back: \(reason); the previous state is restored"
                : "\(call.tool) was applied but \(reason), and the rollback failed: check `aios-net events --tool \(inverse.tool)`"
        )
    }

    /// Confirms a pending guard: the change stays.
    /// - Throws: `.notFound` for an unknown id; `.failed` when it already ended (e.g. rolled back).
    public func confirmGuard(id: String, by origin: Origin = .user) async throws -> GuardRecord {
        guard let record = try await guards.guardRecord(id: id) else {
            throw AiosError(.notFound, "no guard with id \(id); `aios-net guard list` shows the open ones")
        }
        guard try await guards.transition(id: id, from: [.pending], to: .confirmed, note: "confirmed by \(origin)")
        else {
            let current = try await guards.guardRecord(id: id)?.state ?? record.state
            throw AiosError(.failed, "guard \(id) is already \(current.rawValue); nothing to confirm")
        }
        await write(guardEvent(record, kind: "guard.confirmed", result: "confirmed", reason: "confirmed by \(origin)"))
        var confirmed = record
        confirmed.state = .confirmed
        return confirmed
    }

    /// Rolls back every guard left open by a daemon that stopped (or was killed) inside its window.
    /// Run once at start-up, before serving calls.
    /// - Returns: the guards it handled, with their final state.
    @discardableResult
    public func recoverOpenGuards() async throws -> [GuardRecord] {
        var handled: [GuardRecord] = []
        for record in try await guards.openGuards() {
            var done = record
            done.state = await rollBack(
                record, from: [.pending, .rollingBack],
                reason:
                    "the daemon stopped before the change was confirmed (guard opened \(record.createdMs), deadline \(record.deadlineMs))"
            )
            handled.append(done)
        }
        return handled
    }

    /// Rolls back open guards whose deadline has passed (a person never confirmed them).
    ///
    /// A guard with a probe is normally finished by the call that opened it; it is only taken
    /// over `probeGraceMs` after its deadline (e.g. when that call's task died).
    /// - Returns: the next deadline among guards still open, if any.
    public func rollBackExpiredGuards(probeGraceMs: Int64 = 0) async throws -> Int64? {
        let now = clock.nowMs()
        var next: Int64?
        for record in try await guards.openGuards() {
            let due = record.deadlineMs + (record.probe == nil ? 0 : probeGraceMs)
            if due <= now {
                await rollBack(record, from: [.pending], reason: "not confirmed within its window (deadline passed)")
            } else {
                next = min(next ?? due, due)
            }
        }
        return next
    }

    /// Runs the inverse through the pipeline (origin `rollback`) if this caller wins the guard.
    @discardableResult
    func rollBack(_ record: GuardRecord, from states: Set<GuardState>, reason: String) async -> GuardState {
        do {
            guard try await guards.transition(id: record.id, from: states, to: .rollingBack, note: reason) else {
                // Someone else (a confirmation, the watcher) got there first: report where they end.
                return try await settledState(of: record)
            }
        } catch {
            logger.error("guard \(record.id): cannot record the rollback: \(error)")
            return record.state
        }
        do {
            _ = try await execute(ToolCall(tool: record.inverse.tool, input: record.inverse.input, origin: .rollback))
            _ = try await guards.transition(id: record.id, from: [.rollingBack], to: .rolledBack, note: reason)
            logger.info("guard \(record.id): rolled back \(record.tool): \(reason)")
            await write(guardEvent(record, kind: "guard.rolled_back", result: "rolled_back", reason: reason))
            return .rolledBack
        } catch {
            let message = Self.wrap(error).message
            _ = try? await guards.transition(
                id: record.id, from: [.rollingBack], to: .rollbackFailed, note: "\(reason); rollback failed: \(message)"
            )
            logger.error("guard \(record.id): rollback of \(record.tool) failed: \(message)")
            await write(
                guardEvent(
                    record, kind: "guard.rollback_failed", result: "error",
                    reason: "\(reason); rollback failed: \(message)"))
            return .rollbackFailed
        }
    }

    /// Waits (up to 30 s) for a guard someone else is handling to reach a final state.
    private func settledState(of record: GuardRecord) async throws -> GuardState {
        let started = ContinuousClock.now
        while true {
            let state = try await guards.guardRecord(id: record.id)?.state ?? record.state
            if !state.isOpen || ContinuousClock.now - started > .seconds(30) { return state }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func probePasses(_ probe: CallRequest, until deadline: Int64, interval: Int64) async -> Bool {
        while true {
            if Task.isCancelled { return false }
            if (try? await execute(ToolCall(tool: probe.tool, input: probe.input, origin: .guard))) != nil {
                return true
            }
            let remaining = deadline - clock.nowMs()
            if remaining <= 0 { return false }
            do {
                try await clock.sleep(milliseconds: min(interval, remaining))
            } catch {
                return false
            }
        }
    }

    private func guardEvent(_ record: GuardRecord, kind: String, result: String, reason: String) -> AuditEvent {
        AuditEvent(
            timestampMs: clock.nowMs(), kind: kind, callID: record.callID, origin: record.origin.rawValue,
            tool: record.tool,
            input: redactor.redact(record.inverse.input).jsonText, reason: redactor.redact(reason), result: result,
            detail: "guard \(record.id); inverse \(record.inverse.tool)")
    }
}
