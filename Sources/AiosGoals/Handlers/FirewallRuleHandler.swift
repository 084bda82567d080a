public import AiosCore
public import AiosStore

/// `FirewallRule`: one allow or deny rule, kept in force (with the goal's expiry enforced by the
/// kernel); a spec is `action` plus `firewall.allow`'s own fields.
///
/// ```yaml
/// kind: FirewallRule
/// name: nginx-http
/// expires: 2h
/// spec: {action: allow, protocol: tcp, port: 80, comment: nginx}
/// ```
public struct FirewallRuleHandler: GoalHandler {
    public var kind: String { "FirewallRule" }
    public var summary: String {
        "An allow or deny rule (firewall.allow / firewall.deny fields), with the goal's expiry"
    }
    public var watches: [String] { ["firewall."] }

    /// The rule fields a spec takes, as `firewall.allow` names them.
    static let ruleFields = ["chain", "protocol", "port", "source", "destination", "interface", "comment"]
    /// What the firewall's rules look like to goals.
    static let list = CallRequest(tool: "firewall.list", input: ["limit": 100_000])

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        var properties = tools.properties(of: "firewall.allow", Self.ruleFields)
        properties["action"] = .string("allow (firewall.allow) or deny (firewall.deny)", values: ["allow", "deny"])
        return .object(
            properties, required: ["action"], description: summary,
            examples: [["action": "allow", "protocol": "tcp", "port": 80, "comment": "nginx"]])
    }

    public func reads(_ goal: Goal) -> [CallRequest] { [Self.list] + (goal.recheckKernel ? [Self.kernel] : []) }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let inForce = try Self.ruleIDs(observed)
        let rules = owned.filter { $0.kind == "firewall.rule" }
        if let repair = Self.repair(goal, observed: observed, rules: rules) { return GoalStep(calls: [repair]) }
        if !goal.isNewGeneration, rules.contains(where: { inForce.contains($0.id) }) { return GoalStep() }
        var input = (goal.spec.objectValue ?? [:]).filter { Self.ruleFields.contains($0.key) }
        if input["comment"] == nil { input["comment"] = .string("goal \(goal.name)") }
        if let expires = goal.expiresMs { input["expires"] = .string(RFC3339.text(expires)) }
        let action = goal.spec["action"]?.stringValue ?? "allow"
        return GoalStep(
            calls: [PlannedCall(CallRequest(tool: "firewall.\(action)", input: .object(input)), owns: Self.owns)],
            gone: goal.isNewGeneration ? rules.filter { !inForce.contains($0.id) } : rules,
            stale: goal.isNewGeneration ? rules.filter { inForce.contains($0.id) } : [])
    }

    /// One removal per rule: one already gone (expired, removed by a person) fails alone as
    /// not found, and the others still go.
    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        owned.filter { $0.kind == "firewall.rule" }.map {
            CallRequest(tool: "firewall.remove", input: ["id": .string($0.id)])
        }
    }

    public func claims(_ goal: Goal) -> [GoalClaim] {
        [GoalClaim(key: Self.trafficKey(goal.spec), value: goal.spec["action"]?.stringValue ?? "allow")]
    }

    /// The traffic a rule spec matches, for conflicts: allow and deny of the same traffic clash.
    static func trafficKey(_ spec: JSONValue) -> String {
        let field = { (name: String, fallback: String) in spec[name].map { $0.stringValue ?? $0.jsonText } ?? fallback }
        return
            "firewall \(field("chain", "input")) \(field("protocol", "tcp")) port \(field("port", "any")) from \(field("source", "any")) to \(field("destination", "any")) on \(field("interface", "any"))"
    }

    /// The ids of the rules in force, from `firewall.list`.
    /// The table and its entry sets as the kernel has them, against the stored rules.
    static let kernel = CallRequest(tool: "firewall.status", input: ["entries": true])

    /// After the kernel announced removals: when aios-net's table is gone or lacks elements of
    /// `rules`, the call that puts the stored rules back (`firewall.reconcile` with their
    /// remaining lifetimes; it owns nothing new).
    static func repair(_ goal: Goal, observed: Observations, rules: [GoalResource]) -> PlannedCall? {
        guard goal.recheckKernel, !rules.isEmpty, let status = try? observed.output(kernel) else { return nil }
        let entries = status["entries"]
        let missing = Set((entries?["missing"]?.arrayValue ?? []).compactMap { $0["rule"]?.stringValue })
        let listed = entries?["missing"]?.arrayValue?.count ?? 0
        let gone =
            status["present"] == .bool(false) || rules.contains { missing.contains($0.id) }
            || (entries?["missing_count"]?.intValue ?? 0) > listed
        guard gone else { return nil }
        return PlannedCall(CallRequest(tool: "firewall.reconcile", input: ["entries": true])) { _, _ in [] }
    }

    static func ruleIDs(_ observed: Observations) throws -> Set<String> {
        let output = try observed.output(list)
        return Set((output["rules"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
    }

    /// The rules an allow/deny made (`added`); when adopting a crashed run's call, also those
    /// it found in force (`unchanged`). Otherwise an identical rule in force is someone else's.
    @Sendable static func owns(_ output: JSONValue, adopting: Bool) -> [OwnedItem] {
        var items = (output["added"]?.arrayValue ?? []).compactMap { rule in
            rule["id"]?.stringValue.map {
                OwnedItem(kind: "firewall.rule", id: $0, detail: rule["summary"]?.stringValue)
            }
        }
        if adopting {
            items += (output["unchanged"]?.arrayValue ?? []).compactMap(\.stringValue).map {
                OwnedItem(kind: "firewall.rule", id: $0)
            }
        }
        return items
    }
}

/// `ExposeService`: a service's port opened to its sources (one allow per source), with an
/// optional health probe that marks the goal `degraded` while it fails.
///
/// ```yaml
/// kind: ExposeService
/// name: web
/// expires: 2m
/// spec: {port: 8080, protocol: tcp, sources: [10.0.0.0/8], health: {tcp: "127.0.0.1:8080"}}
/// ```
public struct ExposeServiceHandler: GoalHandler {
    public var kind: String { "ExposeService" }
    public var summary: String { "A service's port opened to its sources, with an optional health probe" }
    public var watches: [String] { ["firewall."] }

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        var properties = tools.properties(of: "firewall.allow", ["port", "protocol", "interface", "comment"])
        properties["sources"] = .array(
            of: .string("An address or CIDR, or any", maxLength: 64), "Who may reach it (default: any)", minItems: 1,
            maxItems: 256)
        properties["health"] = .object(
            [
                "tcp": .string("HOST:PORT that must accept a connection", maxLength: 80),
                "http": .string("A URL that must answer (net.http_probe)", maxLength: 2048),
                "interval": .string("How often to probe (default 30s)", maxLength: 16),
            ], description: "A probe whose failure marks the goal degraded")
        return .object(
            properties, required: ["port"], description: summary,
            examples: [["port": 8080, "sources": ["10.0.0.0/8"], "health": ["tcp": "127.0.0.1:8080"]]])
    }

    public func validate(_ spec: JSONValue) throws {
        if let interval = spec["health"]?["interval"]?.stringValue {
            _ = try DurationText.milliseconds(interval, in: 1000...86_400_000, field: "spec.health.interval")
        }
        if let tcp = spec["health"]?["tcp"]?.stringValue, Self.hostPort(tcp) == nil {
            throw AiosError(
                .invalidInput, "\(tcp) is not HOST:PORT ([v6]:PORT for IPv6)",
                location: InputLocation(field: "spec.health.tcp"))
        }
    }

    public func reads(_ goal: Goal) -> [CallRequest] {
        [FirewallRuleHandler.list] + (probe(goal).map { [$0] } ?? [])
            + (goal.recheckKernel ? [FirewallRuleHandler.kernel] : [])
    }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let inForce = try FirewallRuleHandler.ruleIDs(observed)
        let rules = owned.filter { $0.kind == "firewall.rule" }
        if let repair = FirewallRuleHandler.repair(goal, observed: observed, rules: rules) {
            return GoalStep(calls: [repair])
        }
        var step = GoalStep()
        if let probe = probe(goal) {
            step.recheckAfterMs =
                try goal.spec["health"]?["interval"]?.stringValue.map {
                    try DurationText.milliseconds($0)
                } ?? 30_000
            switch Result(catching: { () throws(AiosError) -> JSONValue in try observed.output(probe) }) {
            case .success(let output) where output["reachable"] == .bool(false) || output["connected"] == .bool(false):
                step.degraded = "health probe \(probe.tool) failed: \(output.jsonText)"
            case .failure(let error):
                step.degraded = "health probe \(probe.tool) failed: \(error.message)"
            default:
                break
            }
        }
        // All of the sources' rules are one call: when any is gone, the call makes it again and
        // reports the others unchanged.
        guard goal.isNewGeneration || rules.isEmpty || !rules.allSatisfy({ inForce.contains($0.id) }) else {
            return step
        }
        let match = (goal.spec.objectValue ?? [:]).filter { ["port", "protocol", "interface"].contains($0.key) }
        let entries = (goal.spec["sources"]?.arrayValue ?? ["any"]).map { source -> JSONValue in
            .object(match.merging(["source": source]) { _, new in new })
        }
        var input: [String: JSONValue] = [
            "entries": .array(entries), "comment": goal.spec["comment"] ?? .string("goal \(goal.name)"),
        ]
        if let expires = goal.expiresMs { input["expires"] = .string(RFC3339.text(expires)) }
        // The rules still in force stay owned: only the missing ones come back as added.
        step.calls = [
            PlannedCall(CallRequest(tool: "firewall.allow", input: .object(input)), owns: FirewallRuleHandler.owns)
        ]
        step.gone = rules.filter { !inForce.contains($0.id) }
        if goal.isNewGeneration { step.stale = rules.filter { inForce.contains($0.id) } }
        return step
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] { FirewallRuleHandler().retract(owned) }

    public func claims(_ goal: Goal) -> [GoalClaim] {
        (goal.spec["sources"]?.arrayValue ?? ["any"]).map { source in
            var spec = goal.spec.objectValue ?? [:]
            spec["source"] = source
            return GoalClaim(key: FirewallRuleHandler.trafficKey(.object(spec)), value: "allow")
        }
    }

    func probe(_ goal: Goal) -> CallRequest? {
        guard let health = goal.spec["health"] else { return nil }
        if let url = health["http"]?.stringValue {
            return CallRequest(tool: "net.http_probe", input: ["url": .string(url)])
        }
        if let tcp = health["tcp"]?.stringValue, let (host, port) = Self.hostPort(tcp) {
            return CallRequest(
                tool: "net.tcp_probe",
                input: ["host": .string(host), "port": .number(Double(port)), "timeout_ms": 1000])
        }
        return nil
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
