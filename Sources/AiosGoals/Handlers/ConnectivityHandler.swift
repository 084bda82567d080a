public import AiosCore
public import AiosStore

/// `Connectivity`: the machine online — DHCP (with the reasoned fallback) on its candidate links,
/// the resolver's upstreams, the default firewall under a guard whose probe is one of the
/// checks — and what "online" means, checked on every look (the boot goal; `aios-net boot`
/// applies it once and reports).
///
/// ```yaml
/// kind: Connectivity
/// name: boot
/// spec:
///   links: {ignore: ["docker*"]}
///   management_subnets: [10.0.0.0/8]
///   checks: {dns: example.com, https: https://example.com/}
/// ```
public struct ConnectivityHandler: GoalHandler {
    public var kind: String { "Connectivity" }
    public var summary: String {
        "The machine online: DHCP on its links, resolver upstreams, the default firewall, and the checks that prove it"
    }
    public var watches: [String] { ["net.configure", "net.interface_restore", "net.link_set", "net.route"] }
    public var watchesKernel: Bool { true }

    static let interfaces = CallRequest(tool: "net.interfaces")
    static let routes = CallRequest(tool: "net.routes", input: ["family": "inet"])

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        let globs = JSONSchema.array(of: .string("An interface name or glob (eth*)", maxLength: 32), maxItems: 64)
        var properties: [String: JSONSchema] = [
            "links": .object(
                ["use": globs, "ignore": globs], description: "Which links to bring up (default: every physical one)"),
            "dhcp_timeout": .string("How long each link waits for a lease (default 10s)", maxLength: 16),
            "fallback": .boolean("Infer a static configuration where no DHCP server answers (default true)"),
            "checks": .object(
                [
                    "gateway_ping": .boolean("A default route through a link that is up (default true)"),
                    "dns": .string("A name that must resolve", maxLength: 255),
                    "https": .string("A URL that must answer", maxLength: 2048),
                ], description: "What connected means"),
        ]
        properties["management_subnets"] =
            tools.properties(of: "firewall.apply_default", ["management_subnets"])["management_subnets"]
        properties["upstreams"] = tools.properties(of: "dns.configure", ["upstreams"])["upstreams"]
        return .object(
            properties.compactMapValues { $0 }, description: summary,
            examples: [["links": ["ignore": ["docker*"]], "checks": ["dns": "example.com"]]])
    }

    public func validate(_ spec: JSONValue) throws {
        if let timeout = spec["dhcp_timeout"]?.stringValue {
            _ = try DurationText.milliseconds(timeout, in: 100...300_000, field: "spec.dhcp_timeout")
        }
    }

    public func reads(_ goal: Goal) -> [CallRequest] {
        [Self.interfaces, Self.routes] + checks(goal.spec).map(\.request)
    }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let links = try observed.output(Self.interfaces)["interfaces"]?.arrayValue ?? []
        let candidates = links.filter { Self.isCandidate($0, spec: goal.spec) }
        let mine = Set(owned.filter { $0.kind == "net.interface" }.map(\.id))
        var calls: [PlannedCall] = []
        let timeout = try goal.spec["dhcp_timeout"]?.stringValue.map { try DurationText.milliseconds($0) } ?? 10_000
        for link in candidates {
            guard let name = link["name"]?.stringValue else { continue }
            let addressed = (link["addresses"]?.arrayValue ?? []).contains {
                $0["family"] == "inet" && $0["scope"] != "host"
            }
            // A link with an address someone else gave it is left as it is.
            if addressed && (!mine.contains(name) || !goal.isNewGeneration) { continue }
            let owns = mine.contains(name)
            calls.append(
                PlannedCall(
                    CallRequest(
                        tool: "net.configure",
                        input: [
                            "interface": .string(name), "method": "dhcp", "timeout_ms": .number(Double(timeout)),
                            "fallback": goal.spec["fallback"] ?? true,
                        ]),
                    owns: { output, _ in
                        guard !owns, let previous = output["previous"] else { return [] }
                        return [OwnedItem(kind: "net.interface", id: name, detail: previous.jsonText)]
                    }))
        }
        if let upstreams = goal.spec["upstreams"],
            owned.first(where: { $0.kind == "dns.upstreams" }) == nil
                || goal.isNewGeneration
        {
            calls.append(
                PlannedCall(
                    CallRequest(tool: "dns.configure", input: ["upstreams": upstreams]),
                    owns: { _, _ in [OwnedItem(kind: "dns.upstreams", id: "upstreams", detail: upstreams.jsonText)] }))
        }
        if let subnets = goal.spec["management_subnets"],
            owned.first(where: { $0.kind == "firewall.default" }) == nil
                || goal.isNewGeneration
        {
            // Guarded by a check, so a firewall that cuts the machine off rolls itself back.
            let probe = checks(goal.spec).first?.request
            calls.append(
                PlannedCall(
                    CallRequest(tool: "firewall.apply_default", input: ["management_subnets": subnets]),
                    guardOptions: GuardOptions(probe: probe ?? Self.interfaces),
                    owns: { _, _ in [OwnedItem(kind: "firewall.default", id: "aios_firewall")] }))
        }
        var failed: [String] = []
        if goal.spec["checks"]?["gateway_ping"] != false {
            let routes = try observed.output(Self.routes)["routes"]?.arrayValue ?? []
            let up = Set(
                links.filter { $0["state"] == "UP" || $0["state"] == "UNKNOWN" }.compactMap { $0["name"]?.stringValue })
            let gateway = routes.contains {
                $0["destination"] == "default" && $0["gateway"] != nil
                    && ($0["device"]?.stringValue).map(up.contains) == true
            }
            if !gateway { failed.append("no default route through a link that is up") }
        }
        for check in checks(goal.spec) {
            switch Result(catching: { () throws(AiosError) -> JSONValue in try observed.output(check.request) }) {
            case .failure(let error):
                failed.append("\(check.name) check failed: \(error.message)")
            case .success(let output) where output["reachable"] == false:
                failed.append("\(check.name) check failed: \(output["url"]?.stringValue ?? "") unreachable")
            case .success(let output) where check.name == "dns" && (output["answers"]?.arrayValue ?? []).isEmpty:
                failed.append(
                    "dns check failed: \(output["name"]?.stringValue ?? "") has no answer (\(output["rcode"]?.stringValue ?? "?"))"
                )
            default:
                break
            }
        }
        return GoalStep(
            calls: calls, degraded: failed.isEmpty || !calls.isEmpty ? nil : failed.joined(separator: "; "),
            // After changes the checks are looked at again soon: they ran before the calls.
            recheckAfterMs: !calls.isEmpty ? 5_000 : failed.isEmpty ? nil : 30_000)
    }

    /// The goal keeps the default firewall and the upstreams when it is retracted (removing a
    /// firewall would open the machine); the links go back as they were.
    public func retract(_ owned: [GoalResource]) -> [CallRequest] { InterfaceHandler().retract(owned) }

    public func claims(_ goal: Goal) -> [GoalClaim] { [] }

    /// The checks that are reads: `dns` (net.dns_lookup) and `https` (net.http_probe).
    func checks(_ spec: JSONValue) -> [(name: String, request: CallRequest)] {
        var checks: [(name: String, request: CallRequest)] = []
        if let name = spec["checks"]?["dns"]?.stringValue {
            checks.append(("dns", CallRequest(tool: "net.dns_lookup", input: ["name": .string(name)])))
        }
        if let url = spec["checks"]?["https"]?.stringValue {
            checks.append(("https", CallRequest(tool: "net.http_probe", input: ["url": .string(url)])))
        }
        return checks
    }

    /// A physical link the spec does not leave out: not loopback, not WireGuard, not a bridge or
    /// a port of one (aios-net's sandboxes), matching `links.use` when given, not `links.ignore`.
    static func isCandidate(_ link: JSONValue, spec: JSONValue) -> Bool {
        guard let name = link["name"]?.stringValue, name != "lo", link["link_type"] != "loopback" else { return false }
        if let kind = link["kind"]?.stringValue, ["wireguard", "bridge", "veth", "tun"].contains(kind) {
            // A veth is a candidate only when named in `use` (a lab's uplink).
            if kind != "veth" { return false }
            guard let use = spec["links"]?["use"]?.arrayValue, use.contains(where: { glob($0.stringValue ?? "", name) })
            else { return false }
        }
        if link["master"] != nil { return false }
        let ignore = spec["links"]?["ignore"]?.arrayValue ?? []
        if ignore.contains(where: { glob($0.stringValue ?? "", name) }) { return false }
        if let use = spec["links"]?["use"]?.arrayValue { return use.contains { glob($0.stringValue ?? "", name) } }
        return true
    }

    /// `*` and `?` globs.
    static func glob(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern)
        let n = Array(name)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == n.count }
            if p[i] == "*" { return (j...n.count).contains { match(i + 1, $0) } }
            guard j < n.count, p[i] == "?" || p[i] == n[j] else { return false }
            return match(i + 1, j + 1)
        }
        return match(0, 0)
    }
}
