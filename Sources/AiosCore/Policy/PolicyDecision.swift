/// The policy gate's answer for one call, recorded in its audit row.
public struct PolicyDecision: Sendable, Codable, Hashable {
    /// allow, confirm or deny.
    public var verdict: Verdict
    /// Why, in words.
    public var reason: String

    /// Creates a decision.
    public init(_ verdict: Verdict, _ reason: String) {
        self.verdict = verdict
        self.reason = reason
    }
}

extension Policy {
    /// The decision for `origin` running `tool`: the first matching rule, else the default.
    ///
    /// Rollbacks and the start's restore of recorded state are always allowed (they put back a
    /// state the policy already accepted); rollbacks are never themselves guarded.
    public func decide(origin: Origin, tool: ToolDescriptor) -> PolicyDecision {
        if origin == .rollback {
            return PolicyDecision(.allow, "rollback of an unconfirmed guarded change is always allowed")
        }
        if origin == .restore {
            return PolicyDecision(
                .allow, "restoring aios-net's own recorded state at start is always allowed (not a new change)")
        }
        if origin == .guard {
            return tool.effect == .read
                ? PolicyDecision(.allow, "guard probes may run read tools")
                : PolicyDecision(.deny, "a guard probe must be a read tool; \(tool.name) is \(tool.effect.rawValue)")
        }
        for (index, rule) in rules.enumerated() where rule.matches(origin: origin, tool: tool) {
            let reason = rule.reason ?? "rule \(index + 1) (\(rule.decision.rawValue))"
            return PolicyDecision(rule.decision, reason)
        }
        return PolicyDecision(
            defaultDecision,
            "no rule matched \(origin.rawValue) running \(tool.name); default is \(defaultDecision.rawValue)")
    }

    /// The first protected pattern covering any of `items`, or nil.
    public func protection(for items: [ProtectedItem]) -> (item: ProtectedItem, pattern: ProtectedPattern)? {
        for item in items {
            if let pattern = protected.first(where: { $0.covers(item) }) { return (item, pattern) }
        }
        return nil
    }
}
