/// A policy document: who may run what, limits, protected items and guard defaults.
///
/// Decodes from any `Decoder` (the YAML edge lives outside Core). Rules are tried in order; the
/// first that matches the call's origin, tool name and effect decides. Unknown keys are errors, so
/// a typo cannot silently weaken a policy.
public struct Policy: Sendable, Decodable, Equatable {
    /// Format version; only 1 exists.
    public var version: Int
    /// The decision when no rule matches.
    public var defaultDecision: Verdict
    /// Ordered rules; the first match decides.
    public var rules: [PolicyRule]
    /// Limits tools and the agent enforce.
    public var limits: PolicyLimits
    /// Items no origin may remove or shadow.
    public var protected: [ProtectedPattern]
    /// Guard defaults for disruptive calls.
    public var guardDefaults: GuardDefaults

    /// Creates a policy.
    public init(
        defaultDecision: Verdict = .deny, rules: [PolicyRule], limits: PolicyLimits = PolicyLimits(),
        protected: [ProtectedPattern] = [], guardDefaults: GuardDefaults = GuardDefaults()
    ) {
        self.version = 1
        self.defaultDecision = defaultDecision
        self.rules = rules
        self.limits = limits
        self.protected = protected
        self.guardDefaults = guardDefaults
    }

    /// Allows everything for every origin (tests and benchmarks only).
    public static let permissive = Policy(
        defaultDecision: .allow, rules: [], limits: PolicyLimits(), protected: [], guardDefaults: GuardDefaults())

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case version, defaultDecision = "default", rules, limits, protected
        case guardDefaults = "guard"
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        guard version == 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container,
                debugDescription: "unsupported policy version \(version) (only 1 exists)")
        }
        defaultDecision = try container.decodeIfPresent(Verdict.self, forKey: .defaultDecision) ?? .deny
        rules = try container.decodeIfPresent([PolicyRule].self, forKey: .rules) ?? []
        limits = try container.decodeIfPresent(PolicyLimits.self, forKey: .limits) ?? PolicyLimits()
        protected = try container.decodeIfPresent([ProtectedPattern].self, forKey: .protected) ?? []
        guardDefaults = try container.decodeIfPresent(GuardDefaults.self, forKey: .guardDefaults) ?? GuardDefaults()
    }
}

/// allow, confirm or deny.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Run it.
    case allow
    /// Run it only when a person confirmed (`--yes`).
    case confirm
    /// Refuse it.
    case deny
}

/// One policy rule. Absent matchers match everything.
public struct PolicyRule: Sendable, Decodable, Equatable {
    /// Origins this rule covers (`*` for all).
    public var origins: [String]?
    /// Tool name patterns (`net.*`, `firewall.allow`).
    public var tools: [String]?
    /// Effect classes.
    public var effects: [Effect]?
    /// The verdict.
    public var decision: Verdict
    /// Why, recorded in the audit row and shown on refusal.
    public var reason: String?

    /// Creates a rule.
    public init(
        origins: [String]? = nil, tools: [String]? = nil, effects: [Effect]? = nil, decision: Verdict,
        reason: String? = nil
    ) {
        self.origins = origins
        self.tools = tools
        self.effects = effects
        self.decision = decision
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case origins, tools, effects, decision, reason
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        origins = try container.decodeIfPresent(OneOrMany<String>.self, forKey: .origins)?.values
        tools = try container.decodeIfPresent(OneOrMany<String>.self, forKey: .tools)?.values
        effects = try container.decodeIfPresent(OneOrMany<Effect>.self, forKey: .effects)?.values
        decision = try container.decode(Verdict.self, forKey: .decision)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        if let origins {
            for (index, origin) in origins.enumerated()
            where origin != "*" && !Origin.known.contains(Origin(rawValue: origin)) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.origins, IndexKey(index)],
                        debugDescription:
                            "unknown origin \"\(origin)\" (known: \(Origin.known.map(\.rawValue).joined(separator: ", ")), *)"
                    ))
            }
        }
    }

    func matches(origin: Origin, tool: ToolDescriptor) -> Bool {
        if let origins, !origins.contains("*"), !origins.contains(origin.rawValue) { return false }
        if let tools, !tools.contains(where: { Glob.matches($0, tool.name) }) { return false }
        if let effects, !effects.contains(tool.effect) { return false }
        return true
    }
}

/// Limits that tools and the agent enforce.
public struct PolicyLimits: Sendable, Decodable, Equatable {
    /// The longest expiry a rule may ask for, ms (nil: no limit).
    public var maxExpiryMs: Int64?
    /// The most tool calls one LLM escalation may make.
    public var maxCallsPerEscalation: Int

    /// `max_expiry`: 1s–366d (an expiry of zero would refuse every rule with one).
    public static let maxExpiryRange: ClosedRange<Int64> = 1000...(366 * 86_400_000)
    /// `max_calls_per_escalation`: 1–1000.
    public static let callsRange = 1...1000

    /// Creates limits.
    public init(maxExpiryMs: Int64? = nil, maxCallsPerEscalation: Int = 20) {
        self.maxExpiryMs = maxExpiryMs
        self.maxCallsPerEscalation = maxCallsPerEscalation
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case maxExpiry = "max_expiry", maxCallsPerEscalation = "max_calls_per_escalation"
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxExpiryMs = try container.duration(.maxExpiry, in: Self.maxExpiryRange)
        maxCallsPerEscalation = try container.decodeIfPresent(Int.self, forKey: .maxCallsPerEscalation) ?? 20
        if !Self.callsRange.contains(maxCallsPerEscalation) {
            throw DecodingError.dataCorruptedError(
                forKey: .maxCallsPerEscalation, in: container,
                debugDescription: "must be \(Self.callsRange.lowerBound)–\(Self.callsRange.upperBound)")
        }
    }
}

/// Guard defaults: the confirm window and the probe used when neither the call nor the tool names one.
public struct GuardDefaults: Sendable, Decodable, Equatable {
    /// The confirm window, ms.
    public var windowMs: Int64
    /// How often the probe is retried inside the window, ms.
    public var probeIntervalMs: Int64
    /// The default probe.
    public var probe: CallRequest?

    /// `window` (also a call's `--window`): 1s–1h. A guard rolls back at its deadline; one
    /// of zero would roll back before any probe, one of days would leave a bad change in force.
    public static let windowRange: ClosedRange<Int64> = 1000...3_600_000
    /// `probe_interval`: 100ms–5m, and no longer than the window (a zero one spins a core).
    public static let probeIntervalRange: ClosedRange<Int64> = 100...300_000

    /// Creates defaults.
    public init(windowMs: Int64 = 30_000, probeIntervalMs: Int64 = 1000, probe: CallRequest? = nil) {
        self.windowMs = windowMs
        self.probeIntervalMs = probeIntervalMs
        self.probe = probe
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case window, probeInterval = "probe_interval", probe
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        windowMs = try container.duration(.window, in: Self.windowRange) ?? 30_000
        probeIntervalMs = try container.duration(.probeInterval, in: Self.probeIntervalRange) ?? 1000
        if probeIntervalMs > windowMs {
            throw DecodingError.dataCorruptedError(
                forKey: .probeInterval, in: container,
                debugDescription:
                    "\(DurationText.format(milliseconds: probeIntervalMs)) is longer than the window (\(DurationText.format(milliseconds: windowMs))): the probe would never run"
            )
        }
        probe = try container.decodeIfPresent(CallRequest.self, forKey: .probe)
    }
}

/// A protected-item pattern: a kind and attribute globs.
public struct ProtectedPattern: Sendable, Decodable, Equatable {
    /// The item kind (`firewall_rule`).
    public var kind: String
    /// Attribute name → glob; all must match.
    public var match: [String: String]
    /// Why it is protected.
    public var reason: String

    /// Creates a pattern.
    public init(kind: String, match: [String: String], reason: String) {
        self.kind = kind
        self.match = match
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey, CaseIterable { case kind, match, reason }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        match = try container.decodeIfPresent([String: String].self, forKey: .match) ?? [:]
        reason = try container.decodeIfPresent(String.self, forKey: .reason) ?? "protected by policy"
    }

    /// True when `item` is covered by this pattern.
    public func covers(_ item: ProtectedItem) -> Bool {
        guard item.kind == kind else { return false }
        return match.allSatisfy { key, pattern in item.attributes[key].map { Glob.matches(pattern, $0) } ?? false }
    }
}
