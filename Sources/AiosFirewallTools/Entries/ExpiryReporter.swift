public import AiosCore
public import AiosStore

/// Notices rules whose expiry has passed (the kernel already stopped matching them), marks them
/// expired in the store and writes one `firewall.rule_expired` event each — also for rules that
/// expired while the daemon was down.
public struct FirewallExpiryReporter: Sendable {
    let store: Store
    let clock: any Clock

    /// A reporter over `store`.
    public init(store: Store, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// Reports what has expired by now.
    /// - Returns: the next expiry still ahead, if any.
    public func reportExpired() async throws -> Int64? {
        let now = clock.nowMs()
        for rule in try await store.expiredFirewallRules(at: now) {
            guard try await store.endFirewallRules(ids: [rule.id], state: "expired", endedMs: now) == 1 else {
                continue
            }
            try await store.record(
                AuditEvent(
                    timestampMs: now, kind: "firewall.rule_expired", origin: rule.origin,
                    tool: "firewall.\(rule.verdict)",
                    reason:
                        "expired at \(rule.expiresMs ?? now) (\(rule.expiresText ?? "")); the kernel stopped matching it then",
                    result: "expired", detail: "rule \(rule.id): \(rule.summary)"))
        }
        return try await store.nextFirewallExpiry()
    }
}
