import AiosCore
import AiosLinux
import AiosStore

#if canImport(Glibc)
    import Glibc
#endif

/// Applying a planned batch: the kernel's elements and the store's rules, kept in step.
extension EntryPlanner {
    /// Applies `batch` (planned at store generation `planned`) under the rules' change lock: a
    /// re-check when another change came in between, then the kernel transaction and the rules,
    /// then the cache.
    func commit(
        _ batch: Batch, planned: UInt64, transaction: NftablesElementTransaction, head: [FirewallRuleRecord],
        verdict: String, context: ToolContext
    ) async throws {
        try await active.changes.withLock {
            // Another change committed since this batch was planned: what the kernel would not
            // refuse (the same rule twice, two rules on one hash-set element) is checked again
            // against the rules in force now.
            if store.firewallRulesGeneration != planned,
                let conflict = Self.conflict(batch, with: try await active.snapshot(), now: context.clock.nowMs())
            {
                throw conflict
            }
            let before = store.firewallRulesGeneration
            // The rows are written from the batch as bytes (`FirewallRowSource`); the records
            // (Strings) the cache keeps are made after the answer.
            if batch.count < Self.concurrentBatch {
                try applyKernel(transaction, verdict: verdict)
                do {
                    try await store.insertFirewallRules(batch)
                } catch {
                    compensate(batch)
                    throw error
                }
            } else {
                try await commitBig(batch, transaction: transaction, head: head, verdict: verdict, context: context)
            }
            // The cache catches up after the answer (100k records to make and index): a call that
            // plans before it does sees the generation moved and reloads, so nothing stale is served.
            let after = store.firewallRulesGeneration
            let active = active
            OwnedTasks.shared.run {
                await active.inserted(
                    batch.records(head: head), rules: batch.rules, elements: batch.elements, before: before,
                    after: after)
            }
        }
    }

    /// A big batch persists its rules while the kernel takes its elements, as one journal entry
    /// (`journalFirewallRules`): a row per rule would cost more than the kernel step; the entry
    /// becomes rows right after the answer, and any read of the rules before that writes it out
    /// first. A marker, committed with the entry, names the batch: if the daemon dies with the
    /// rules committed but the kernel transaction not, the boot reconcile re-adds that batch's
    /// elements (see ReconcileTool). Dying after the kernel transaction but before the rules
    /// commit (here, or between the two steps of a small batch) leaves elements no rule writes:
    /// the next start, finding that the run did not stop cleanly, reconciles the entry sets and
    /// deletes them.
    private func commitBig(
        _ batch: Batch, transaction: NftablesElementTransaction, head: [FirewallRuleRecord], verdict: String,
        context: ToolContext
    ) async throws {
        let now = batch.now
        let marker = Self.pendingKey(head[0].id)
        async let stored: Void = store.journalFirewallRules(
            batch, marker: (marker, ["created_ms": .number(Double(now))]))
        var kernelError: (any Error)?
        do { try applyKernel(transaction, verdict: verdict) } catch { kernelError = error }
        var storeError: (any Error)?
        do { try await stored } catch { storeError = error }
        if kernelError == nil, storeError != nil { compensate(batch) }
        if kernelError != nil, storeError == nil {
            let ids = (0..<batch.count).map(batch.id)
            _ = try? await store.endFirewallRules(ids: ids, state: "removed", endedMs: now)
        }
        if let error = kernelError ?? storeError {
            try? await store.removeSetting(marker)
            throw error
        }
        try await store.removeSetting(marker)
    }

    /// The batch's elements into the kernel.
    private func applyKernel(_ transaction: NftablesElementTransaction, verdict: String) throws {
        do {
            try table.apply(transaction, what: "cannot add the \(verdict) rules")
        } catch let error as AiosError where (error.cause as? NetlinkError)?.errno == ENOENT {
            // Listing the table first costs more than the batch; a missing table or set shows as
            // the transaction's error instead.
            throw AiosError(
                .notFound,
                "the firewall table or one of its sets is missing: run firewall.apply_default to install or repair it",
                cause: error)
        }
    }

    /// Keeps kernel and store in step after the store refused: takes the elements out again.
    private func compensate(_ batch: Batch) {
        _ = try? table.apply(Self.deleteElements(batch.elements, table: table.name), what: "compensate")
    }
}
