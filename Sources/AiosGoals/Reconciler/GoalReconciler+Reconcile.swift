import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging

extension GoalReconciler {
    /// Makes one goal true, or retracts it when it is gone or expired, and records its status.
    func reconcile(_ name: String, observed: Observations, claims: [String: [(name: String, value: String)]]) async {
        let now = clock.nowMs()
        guard let document = desired[name] else {
            await retract(name, phase: "retracted", reason: "Retracted", message: "its document was removed")
            return
        }
        guard let handler = kinds.handler(document.kind) else {
            await save(
                name, document: document, phase: "failed", reason: "UnknownKind",
                message: "no handler for kind \(document.kind)", now: now)
            return
        }
        let goal = goal(document)
        if let expires = goal.expiresMs, expires <= now {
            await retract(
                name, phase: "expired", reason: "Expired",
                message: "expired at \(RFC3339.text(expires)); what it made was removed", document: document)
            return
        }
        let rivals = Set(handler.claims(goal)).flatMap { claim in
            (claims[claim.key] ?? []).filter { $0.name != name && $0.value != claim.value }.map {
                "\($0.name) (\(claim.key): \($0.value))"
            }
        }
        if !rivals.isEmpty {
            await save(
                name, document: document, phase: "conflict", reason: "Conflict",
                message:
                    "wants the opposite of \(Set(rivals).sorted().joined(separator: ", ")); neither is applied until one changes",
                now: now, nextCheck: resync(now, expires: goal.expiresMs))
            return
        }
        do {
            let applied = try await apply(goal, handler: handler, observed: observed)
            let step = applied.step
            let phase = invalid[name] != nil ? "invalid" : step.degraded != nil ? "degraded" : "applied"
            let message =
                invalid[name] ?? step.degraded
                ?? (step.calls.isEmpty
                    ? "in force; nothing to change"
                    : "applied \(step.calls.map(\.request.tool).joined(separator: ", "))")
            let next =
                step.recheckAfterMs.map { min(now + $0, resync(now, expires: goal.expiresMs)) }
                ?? resync(now, expires: goal.expiresMs)
            await save(
                name, document: document, phase: phase,
                reason: phase == "applied" ? "Applied" : phase == "invalid" ? "Invalid" : "Degraded",
                message: message, now: now, nextCheck: next, applied: true, adding: applied.adding,
                removing: step.gone, endingIntents: applied.ended)
        } catch {
            let failures = (records[name]?.failures ?? 0) + 1
            let delayMs = Self.backoff.milliseconds(after: failures)
            let message = (error as? AiosError)?.description ?? "\(error)"
            await save(
                name, document: document, phase: "failed", reason: "CallFailed",
                message: "\(message); retrying in \(DurationText.format(milliseconds: delayMs))", now: now,
                nextCheck: min(now + delayMs, goal.expiresMs ?? .max), failures: failures)
        }
    }

    /// How a goal that keeps failing waits before its next try.
    static let backoff = Backoff(initial: .seconds(1), cap: .seconds(300), jitter: 0.2)

    /// What `apply` made and which intents it ended, recorded with the goal's status in one
    /// transaction.
    struct Applied {
        var step: GoalStep
        var adding: [GoalResource]
        var ended: [String]
    }

    /// Runs the calls that make `goal` true. Each call's intent is committed before it runs; what
    /// the calls made is recorded with the goal's status (`save`), or — when a call fails — at
    /// once, before the error goes on.
    func apply(_ goal: Goal, handler: any GoalHandler, observed: Observations) async throws -> Applied {
        let name = goal.name
        let now = clock.nowMs()
        let owned = self.owned[name] ?? []
        let leftover = intents[name] ?? []
        let step = try handler.reconcile(goal, observed: observed, owned: owned)
        // A new generation is made before the old one is broken: what it no longer wants goes
        // once its calls succeeded.
        let staleIDs = Set(step.stale.map(\.id))
        var adding: [GoalResource] = []
        var ended: [String] = []
        do {
            for planned in step.calls {
                let id = UUID().uuidString.lowercased()
                try await store.saveGoalIntent(goal: name, callID: id, tool: planned.request.tool, at: now)
                intents[name, default: []].append(id)
                ended.append(id)
                let result = await execute(
                    planned.request, subject: goal.subject, guardOptions: planned.guardOptions, id: id)
                if !step.stale.isEmpty, case .failure(let error) = result, error.code == .invalidInput {
                    // The new generation cannot stand beside the old (an overlapping range):
                    // break before make — the old one's resources go, and the next try makes the new.
                    try await removeOwned(name, step.stale, handler: handler)
                    throw error
                }
                let output = try result.get().output ?? .null
                var items = planned.owns(output, !leftover.isEmpty)
                // What the new generation found in force that the old one made stays owned.
                items += planned.owns(output, true).filter { staleIDs.contains($0.id) }
                adding += items.map {
                    GoalResource(goal: name, kind: $0.kind, id: $0.id, detail: $0.detail, createdMs: clock.nowMs())
                }
            }
            let kept = Set(adding.map(\.id))
            try await removeOwned(name, step.stale.filter { !kept.contains($0.id) }, handler: handler)
        } catch {
            // What the calls before the failing one made is the goal's, recorded now.
            if !ended.isEmpty {
                try? await commit(
                    updated(name, document: goal.document, now: now), adding: adding, removing: step.gone,
                    endingIntents: ended)
            }
            throw error
        }
        return Applied(step: step, adding: adding, ended: ended + (step.calls.isEmpty ? [] : leftover))
    }

    /// Writes `record` with the resources it gained and lost and the intents it ended, in one
    /// transaction, and keeps the caches as the store now has them.
    func commit(
        _ record: GoalRecord, adding: [GoalResource] = [], removing: [GoalResource] = [],
        endingIntents: [String] = []
    ) async throws {
        try await store.saveGoal(record, adding: adding, removing: removing, endingIntents: endingIntents)
        records[record.name] = record
        let gone = Set(removing.map { "\($0.kind) \($0.id)" })
        let added = Set(adding.map { "\($0.kind) \($0.id)" })
        var current = (owned[record.name] ?? []).filter {
            !gone.contains("\($0.kind) \($0.id)") && !added.contains("\($0.kind) \($0.id)")
        }
        current += adding.filter { !gone.contains("\($0.kind) \($0.id)") }
        owned[record.name] = current.isEmpty ? nil : current
        if !endingIntents.isEmpty {
            let ended = Set(endingIntents)
            intents[record.name] = intents[record.name]?.filter { !ended.contains($0) }
        }
    }

    /// Removes what `name` owns; then forgets it (`retracted`) or keeps it as `expired`.
    func retract(_ name: String, phase: String, reason: String, message: String, document: GoalDocument? = nil) async {
        guard let record = records[name] else { return }
        let now = clock.nowMs()
        do {
            let owned = self.owned[name] ?? []
            if let handler = kinds.handler(record.kind) { try await removeOwned(name, owned, handler: handler) }
            if phase == "retracted" {
                try await store.deleteGoal(name)
                records[name] = nil
                self.owned[name] = nil
                intents[name] = nil
                statusFiles?.remove(name)
                try? await store.record(
                    AuditEvent(
                        timestampMs: clock.nowMs(), kind: "goal.retracted", origin: "goal", result: "ok",
                        detail: "\(name): \(owned.count) owned removed", subject: "goal:\(name)"))
                return
            }
            await save(
                name, document: document ?? (try? GoalDocument(json: record.document, source: record.source)),
                phase: phase,
                reason: reason, message: message, now: now, nextCheck: nil)
        } catch {
            let failures = record.failures + 1
            await save(
                name, document: document ?? (try? GoalDocument(json: record.document, source: record.source)),
                phase: record.phase,
                reason: "RetractFailed", message: "cannot remove what it owns: \(error); retrying", now: now,
                nextCheck: now + Self.backoff.milliseconds(after: failures), failures: failures)
        }
    }

    /// Retracts `resources` of `name` (a removal that finds one gone counts) and forgets them.
    func removeOwned(_ name: String, _ resources: [GoalResource], handler: any GoalHandler) async throws {
        guard !resources.isEmpty else { return }
        for request in handler.retract(resources) {
            // Gone already (an expiry the kernel enforced, a person's removal) counts as removed.
            if case .failure(let error) = await execute(request, subject: "goal:\(name)"), error.code != .notFound {
                throw error
            }
        }
        guard var record = records[name] else { return }
        record.updatedMs = clock.nowMs()
        try await commit(record, removing: resources)
    }

    /// The record for `name` with `document` as its current one.
    func updated(_ name: String, document: GoalDocument, now: Int64) -> GoalRecord {
        var record =
            records[name]
            ?? GoalRecord(
                name: name, kind: document.kind, source: document.source, document: document.json,
                generation: document.generation, phase: "pending", firstSeenMs: now, transitionMs: now, updatedMs: now)
        record.kind = document.kind
        record.source = document.source
        record.document = document.json
        record.generation = document.generation
        record.expiresMs = document.expires.flatMap { try? GoalExpiry.absolute($0, firstSeenMs: record.firstSeenMs) }
        record.updatedMs = now
        return record
    }

    /// Writes a goal's status (row, status file, an audit event when the phase changes).
    func save(
        _ name: String, document: GoalDocument?, phase: String, reason: String, message: String, now: Int64,
        nextCheck: Int64? = nil, failures: Int = 0, applied: Bool = false, adding: [GoalResource] = [],
        removing: [GoalResource] = [], endingIntents: [String] = []
    ) async {
        guard let document else { return }
        var record = updated(name, document: document, now: now)
        // A new phase or reason is a transition (logged and audited once); a new retry time is not.
        let changed = record.phase != phase || record.conditions.first?.reason != reason
        if record.phase != phase { record.transitionMs = now }
        record.phase = phase
        record.failures = failures
        record.nextCheckMs = nextCheck
        if applied {
            // An invalid file keeps its last applied generation in force.
            if invalid[name] == nil {
                record.appliedDocument = document.json
                record.appliedGeneration = document.generation
            }
        }
        let status = ["applied", "expired"].contains(phase) ? "True" : "False"
        let transition = changed ? now : (record.conditions.first?.lastTransitionMs ?? now)
        record.conditions = [
            GoalCondition(
                type: "Ready", status: status, reason: reason, message: message,
                observedGeneration: record.generation, lastTransitionMs: transition)
        ]
        if !changed, adding.isEmpty, removing.isEmpty, endingIntents.isEmpty, let stored = records[name],
            Self.sameStatus(stored, record, now: now)
        {
            // Looked at again (someone's call, a kernel event) and nothing moved: the row, its
            // next check and the status file stand.
            return
        }
        do {
            try await commit(record, adding: adding, removing: removing, endingIntents: endingIntents)
        } catch {
            logger.error("cannot record the status of goal \(name): \(error)")
            records[name] = record
        }
        // No suspension between the row's cache and the file: a reader sees both or neither.
        statusFiles?.write(record, owned: owned[name] ?? [])
        if changed {
            if phase == "failed" || phase == "conflict" || phase == "invalid" {
                logger.warning("goal \(name): \(phase): \(message)")
            } else {
                logger.info("goal \(name): \(phase): \(message)")
            }
            try? await store.record(
                AuditEvent(
                    timestampMs: now, kind: "goal.\(phase)", origin: "goal", result: phase == "failed" ? "error" : "ok",
                    detail: message, subject: "goal:\(name)"))
        }
    }

    /// True when `new` says what `stored` says and `stored`'s next check is still to come and no
    /// later than the new one would be.
    static func sameStatus(_ stored: GoalRecord, _ new: GoalRecord, now: Int64) -> Bool {
        guard let next = stored.nextCheckMs, next > now, next <= (new.nextCheckMs ?? .min) else { return false }
        var same = new
        same.updatedMs = stored.updatedMs
        same.nextCheckMs = stored.nextCheckMs
        return same == stored
    }

    /// The next resync after `now`: about `resyncMs` (±20 %), and no later than the expiry.
    func resync(_ now: Int64, expires: Int64?) -> Int64 {
        let jittered = Int64(Double(settings.resyncMs) * Double.random(in: 0.8...1.2))
        return min(now + jittered, expires ?? .max)
    }
}
