public import AiosCore
import Foundation

/// `aios-net boot`: applies a `Connectivity` goal once, from no network to verified connectivity,
/// and reports what it did. Every step is a tool call through the one pipeline with origin
/// `boot`: links up, DHCP on every candidate link at once (the reasoned fallback where no server
/// answers), the default route chosen among the links that work, the default firewall under the
/// guard with a check as its probe, the resolver's upstreams and `resolv.conf`, then the checks.
///
/// The reconciler keeps a Connectivity goal true afterwards with the same spec
/// (`ConnectivityHandler`); boot is the one-shot, reported, parallel form of it.
public struct BootRunner: Sendable {
    let calls: any ToolCalling
    let clock: any Clock
    let status: @Sendable (String) -> Void

    /// A runner over `calls`; `status` hears one line per step (`connecting eth0: DHCP…`).
    public init(calls: any ToolCalling, clock: any Clock, status: @escaping @Sendable (String) -> Void = { _ in }) {
        self.calls = calls
        self.clock = clock
        self.status = status
    }

    /// How long the default firewall's probe has to pass before the firewall rolls back.
    static let firewallWindowMs: Int64 = 5_000

    /// How long a link that is up but has no carrier is waited for.
    static let carrierWaitMs: Int64 = 3_000

    /// Applies `document` (a Connectivity goal) once, within `timeoutMs`; `resolvConf` is the
    /// file pointed at the managed resolver (nil: left alone).
    public func run(_ document: GoalDocument, resolvConf: String?, timeoutMs: Int64) async -> BootReport {
        let started = clock.nowMs()
        let deadline = started + timeoutMs
        let spec = document.spec
        var run = Run(calls: calls)
        var report = BootReport(
            ok: false, changed: false, totalMs: 0, goal: document.name, links: [], defaultRoute: nil, failover: [],
            firewall: nil, resolver: nil, checks: [], problems: [], facts: nil)

        // 1. The links: up, and a short wait for carrier.
        status("detecting links")
        var links = await interfaces(&run)
        let candidates = links.filter { ConnectivityHandler.isCandidate($0, spec: spec) }.compactMap {
            $0["name"]?.stringValue
        }
        for link in links where candidates.contains(link["name"]?.stringValue ?? "") {
            let flags = link["flags"]?.arrayValue ?? []
            if !flags.contains("UP"), let name = link["name"]?.stringValue {
                _ = await run.call("net.link_set", ["interface": .string(name), "up": true])
            }
        }
        let carrierDeadline = min(deadline, clock.nowMs() + Self.carrierWaitMs)
        var lastWaiting = ""
        while true {
            links = await interfaces(&run)
            let waiting = links.filter { candidates.contains($0["name"]?.stringValue ?? "") && $0["carrier"] != true }
            if waiting.isEmpty || clock.nowMs() >= carrierDeadline { break }
            let names = waiting.compactMap { $0["name"]?.stringValue }.joined(separator: ", ")
            if names != lastWaiting { status("waiting for carrier on \(names)") }
            lastWaiting = names
            try? await clock.sleep(untilMs: min(carrierDeadline, clock.nowMs() + 5))
        }
        let routesBefore = await routes(&run)
        // What aios-net configured, by link: `dhcp` (a lease, or the fallback while dhcpcd keeps
        // asking) or `static` (a deliberate configuration, left as it is).
        let intents = Dictionary(
            ((((try? await run.call("net.intents", [:]).get().output?["intents"]?.arrayValue) ?? nil) ?? [])
                .compactMap { item -> (String, String)? in
                    guard let name = item["interface"]?.stringValue, let method = item["method"]?.stringValue else {
                        return nil
                    }
                    return (name, method)
                }),
            uniquingKeysWith: { first, _ in first })

        // 2. DHCP on every candidate with carrier, at once.
        let dhcpTimeout =
            (try? spec["dhcp_timeout"]?.stringValue.map { try DurationText.milliseconds($0) }) ?? 10_000
        var planned: [(name: String, carrier: Bool, configure: Bool, reason: String)] = []
        for name in candidates {
            let link = links.first { $0["name"]?.stringValue == name }
            let carrier = link?["carrier"] == true
            let addressed = Self.addresses(link).contains { !$0.contains(":") }
            // aios-net's own configuration (an earlier boot's lease or fallback) is booted again.
            let ours =
                intents[name] == "dhcp"
                || routesBefore.contains { $0["device"]?.stringValue == name && $0["protocol"] == "dhcp" }
            let leased = routesBefore.contains { $0["device"]?.stringValue == name && $0["protocol"] == "dhcp" }
            if !carrier {
                planned.append((name, false, false, "no carrier after \(Self.carrierWaitMs) ms"))
            } else if addressed && intents[name] == "dhcp" && !leased {
                planned.append((name, true, false, "the fallback's configuration is in force; dhcpcd keeps asking"))
            } else if addressed && !ours {
                planned.append(
                    (
                        name, true, false,
                        intents[name] == "static"
                            ? "configured static by aios-net (net.configure); left as it is"
                            : "already configured by someone else; left as it is"
                    ))
            } else {
                planned.append((name, true, true, ""))
            }
        }
        let timeout = max(100, min(dhcpTimeout, deadline - clock.nowMs()))
        let configuring = planned.filter(\.configure).map(\.name)
        if !configuring.isEmpty { status("connecting \(configuring.joined(separator: ", ")): DHCP…") }
        let results = await withTaskGroup(of: (String, Result<CallOutcome, AiosError>, Int64).self) { group in
            for name in configuring {
                let calls = calls
                let clock = clock
                group.addTask {
                    let start = clock.nowMs()
                    let outcome = await Run.execute(
                        calls, "net.configure",
                        [
                            "interface": .string(name), "method": "dhcp", "timeout_ms": .number(Double(timeout)),
                            "fallback": spec["fallback"] ?? true,
                        ])
                    return (name, outcome, clock.nowMs() - start)
                }
            }
            var results: [String: (Result<CallOutcome, AiosError>, Int64)] = [:]
            for await (name, outcome, ms) in group { results[name] = (outcome, ms) }
            return results
        }
        links = await interfaces(&run)
        for item in planned {
            let link = links.first { $0["name"]?.stringValue == item.name }
            var entry = BootReport.Link(
                name: item.name, carrier: item.carrier, method: item.configure ? "dhcp" : "skipped",
                addresses: Self.addresses(link), reason: item.reason, ms: nil)
            if !item.configure && item.carrier { entry.method = intents[item.name] == "dhcp" ? "fallback" : "static" }
            if let (outcome, ms) = results[item.name] {
                entry.ms = ms
                switch outcome {
                case .success(let done):
                    run.note(done)
                    let output = done.output ?? .null
                    if let fallback = output["fallback"], fallback != .null {
                        let reasoning = (fallback["reasoning"]?.arrayValue ?? []).compactMap(\.stringValue)
                        entry.method = fallback["applied"] == true ? "fallback" : "dhcp"
                        entry.reason =
                            (fallback["applied"] == true ? "no DHCP offer; " : "no DHCP offer and no fallback; ")
                            + reasoning.joined(separator: "; ")
                    } else {
                        let lease = output["lease"]
                        entry.reason =
                            done.status == .unchanged
                            ? "lease in force"
                            : "lease \(lease?["address"]?.stringValue ?? "?") from \(lease?["server"]?.stringValue ?? "the DHCP server")"
                    }
                case .failure(let error):
                    entry.reason = error.message
                }
            }
            report.links.append(entry)
        }

        // 3. The default route: spec order, then wired before wireless, then the gateway's latency.
        let defaults = await routes(&run).filter {
            $0["destination"] == "default" && $0["gateway"] != nil && $0["table"] == "main"
        }
        var latency: [String: Double] = [:]
        // Latency only ranks: one default route needs no ping here (the check pings it).
        for route in defaults where defaults.count > 1 {
            guard let gateway = route["gateway"]?.stringValue else { continue }
            if case .success(let done) = await run.call(
                "net.ping", ["host": .string(gateway), "count": 1, "timeout_ms": 1000]),
                let rtt = Self.number(done.output?["min_ms"])
            {
                latency[gateway] = rtt
            }
        }
        let order = (spec["links"]?["use"]?.arrayValue ?? []).compactMap(\.stringValue)
        func rank(_ route: JSONValue) -> (Int, Int, Double) {
            let device = route["device"]?.stringValue ?? ""
            let position = order.firstIndex { ConnectivityHandler.glob($0, device) } ?? order.count
            let wireless = device.hasPrefix("wl") ? 1 : 0
            return (position, wireless, latency[route["gateway"]?.stringValue ?? ""] ?? .infinity)
        }
        let ranked = defaults.sorted { rank($0) < rank($1) }
        if let best = ranked.first, let device = best["device"]?.stringValue {
            let kernelBest = defaults.min { (Self.number($0["metric"]) ?? 0) < (Self.number($1["metric"]) ?? 0) }
            var reason =
                defaults.count == 1
                ? "the only link with a default route"
                : "spec order, then wired before wireless, then the gateway's latency"
            if kernelBest?["device"] != best["device"] {
                status("default route via \(device)")
                if case .failure(let error) = await run.call(
                    "net.failover", ["interface": .string(device), "reason": .string("boot: \(reason)")])
                {
                    reason += "; moving the default route failed: \(error.message)"
                }
            }
            report.defaultRoute = Self.route(best, reason: reason, latency: latency)
            report.failover = ranked.dropFirst().map { Self.route($0, reason: "failover", latency: latency) }
        }
        let gateway = report.defaultRoute?.gateway

        // 4. The default firewall, guarded by a check: one that cuts the machine off rolls back.
        if let subnets = spec["management_subnets"] {
            status("applying the default firewall")
            // The probe is the most demanding check: the HTTPS reach, else the name, else the
            // gateway — what the machine must still do once the firewall is in force.
            let checks = spec["checks"]
            let probe: CallRequest =
                if let url = checks?["https"]?.stringValue {
                    CallRequest(tool: "net.http_probe", input: ["url": .string(url)])
                } else if let name = checks?["dns"]?.stringValue {
                    CallRequest(tool: "net.dns_lookup", input: ["name": .string(name)])
                } else if let gateway {
                    CallRequest(tool: "net.ping", input: ["host": .string(gateway), "count": 1, "timeout_ms": 1000])
                } else {
                    CallRequest(tool: "net.interfaces")
                }
            let outcome = await run.call(
                "firewall.apply_default", ["management_subnets": subnets],
                guardOptions: GuardOptions(probe: probe, windowMs: Self.firewallWindowMs))
            report.firewall = Self.section(outcome, what: "default firewall")
        }

        // 5. The resolver's upstreams, and the system pointed at it.
        var resolverOutputs: [String: JSONValue] = [:]
        var resolverChanged = false
        var resolverProblems: [String] = []
        if let upstreams = spec["upstreams"]?.arrayValue {
            status("configuring the resolver")
            let tls = !upstreams.isEmpty && upstreams.allSatisfy { $0.stringValue?.contains("#") == true }
            var input: [String: JSONValue] = ["upstreams": .array(upstreams), "tls": .bool(tls)]
            // The resolver's guard resolves the DNS check's name (else the root): an upstream that
            // answers only some names still passes where the check would.
            if let name = spec["checks"]?["dns"] { input["probe_name"] = name }
            switch await run.call("dns.configure", .object(input)) {
            case .success(let done):
                resolverChanged = resolverChanged || done.status == .applied
                resolverOutputs["upstreams"] = .array(upstreams)
            case .failure(let error): resolverProblems.append("dns.configure: \(error.message)")
            }
        }
        if let resolvConf {
            switch await run.call("dns.status", [:]) {
            case .success(let done) where done.output?["running"] == true:
                let listen = done.output?["listen"]?.stringValue ?? "127.0.0.1"
                let (host, port) = Self.hostPort(listen)
                if port != 53 {
                    resolverProblems.append("the resolver listens on port \(port): resolv.conf cannot name a port")
                } else {
                    switch await run.call("dns.resolv_conf", ["path": .string(resolvConf), "servers": [.string(host)]])
                    {
                    case .success(let written):
                        resolverChanged = resolverChanged || written.status == .applied
                        resolverOutputs["resolv_conf"] = .string(resolvConf)
                        resolverOutputs["nameserver"] = .string(host)
                    case .failure(let error): resolverProblems.append("resolv.conf: \(error.message)")
                    }
                }
            case .success:
                resolverOutputs["resolv_conf"] = "left alone: the managed resolver is not running"
            case .failure(let error):
                resolverProblems.append("dns.status: \(error.message)")
            }
        }
        if !resolverOutputs.isEmpty || !resolverProblems.isEmpty {
            report.resolver = BootReport.Section(
                changed: resolverChanged, ok: resolverProblems.isEmpty,
                detail: resolverProblems.isEmpty
                    ? (resolverChanged ? "configured" : "in force; nothing to change")
                    : resolverProblems.joined(separator: "; "),
                output: .object(resolverOutputs))
        }

        // 6. The checks.
        status("checking connectivity")
        if spec["checks"]?["gateway_ping"] != false {
            let start = clock.nowMs()
            if let gateway {
                let outcome = await run.call("net.ping", ["host": .string(gateway), "count": 1, "timeout_ms": 1000])
                let received = ((try? outcome.get().output?["received"]?.intValue) ?? nil) ?? 0
                report.checks.append(
                    BootReport.Check(
                        name: "gateway_ping", ok: received > 0, ms: clock.nowMs() - start,
                        detail: received > 0
                            ? "\(gateway) answered in \(Self.number(try? outcome.get().output?["min_ms"]).map { String(format: "%.1f", $0) } ?? "?") ms"
                            : "\(gateway) did not answer: \((try? outcome.get()) == nil ? Self.message(outcome) : "no reply")"
                    ))
            } else {
                report.checks.append(
                    BootReport.Check(
                        name: "gateway_ping", ok: false, ms: 0, detail: "no default route through a gateway"))
            }
        }
        if let name = spec["checks"]?["dns"]?.stringValue {
            let start = clock.nowMs()
            let outcome = await run.call("net.dns_lookup", ["name": .string(name)])
            let answers = ((try? outcome.get().output?["answers"]?.arrayValue) ?? nil) ?? []
            report.checks.append(
                BootReport.Check(
                    name: "dns", ok: !answers.isEmpty, ms: clock.nowMs() - start,
                    detail: !answers.isEmpty
                        ? "\(name) → \(answers.compactMap(\.stringValue).joined(separator: ", "))"
                        : "\(name): \(Self.message(outcome, empty: "no answer (\(((try? outcome.get().output?["rcode"]?.stringValue) ?? nil) ?? "?") from \(((try? outcome.get().output?["servers"]?.arrayValue) ?? nil)?.compactMap(\.stringValue).joined(separator: ", ") ?? "?"))"))"
                ))
        }
        if let url = spec["checks"]?["https"]?.stringValue {
            let start = clock.nowMs()
            let outcome = await run.call("net.http_probe", ["url": .string(url)])
            let output: JSONValue? = (try? outcome.get().output) ?? nil
            let reached = output?["reachable"] == true
            report.checks.append(
                BootReport.Check(
                    name: "https", ok: reached, ms: clock.nowMs() - start,
                    detail: reached
                        ? "\(url) answered \(output?["status"]?.intValue.map(String.init) ?? "")"
                        : "\(url): \(output?["error"]?.stringValue ?? Self.message(outcome, empty: "unreachable"))"))
        }

        report.problems =
            report.links.filter { $0.method == "dhcp" && $0.addresses.isEmpty }.map { "\($0.name): \($0.reason)" }
            + [report.firewall].compactMap { $0 }.filter { !$0.ok }.map { "firewall: \($0.detail)" }
            + [report.resolver].compactMap { $0 }.filter { !$0.ok }.map { "resolver: \($0.detail)" }
            + report.checks.filter { !$0.ok }.map { "\($0.name): \($0.detail)" }
        report.ok = !report.checks.isEmpty && report.checks.allSatisfy(\.ok) && report.problems.isEmpty
        report.changed = run.changed
        if !report.ok {
            report.facts = ["interfaces": .array(await interfaces(&run)), "routes": .array(await routes(&run))]
        }
        report.totalMs = clock.nowMs() - started
        status(report.ok ? "connected in \(report.totalMs) ms" : "not connected: \(report.problems.first ?? "")")
        return report
    }

    func interfaces(_ run: inout Run) async -> [JSONValue] {
        ((try? await run.call("net.interfaces", [:]).get().output?["interfaces"]?.arrayValue) ?? nil) ?? []
    }

    func routes(_ run: inout Run) async -> [JSONValue] {
        ((try? await run.call("net.routes", ["family": "inet"]).get().output?["routes"]?.arrayValue) ?? nil) ?? []
    }

    static func addresses(_ link: JSONValue?) -> [String] {
        (link?["addresses"]?.arrayValue ?? []).filter { $0["scope"] == "global" }.compactMap {
            guard let address = $0["address"]?.stringValue, let length = $0["prefix_length"]?.intValue else {
                return nil
            }
            return "\(address)/\(length)"
        }
    }

    static func number(_ value: JSONValue?) -> Double? {
        if case .number(let number) = value { return number }
        return nil
    }

    static func route(_ route: JSONValue, reason: String, latency: [String: Double]) -> BootReport.Route {
        let gateway = route["gateway"]?.stringValue
        let rtt = gateway.flatMap { latency[$0] }.map { String(format: " (gateway %.1f ms)", $0) } ?? ""
        return BootReport.Route(
            interface: route["device"]?.stringValue ?? "?", gateway: gateway, metric: route["metric"]?.intValue,
            reason: reason + rtt)
    }

    static func section(_ outcome: Result<CallOutcome, AiosError>, what: String) -> BootReport.Section {
        switch outcome {
        case .success(let done):
            return BootReport.Section(
                changed: done.status == .applied, ok: true,
                detail: done.status == .applied
                    ? "\(what) applied\(done.guardState.map { " (guard \($0.state.rawValue))" } ?? "")"
                    : "\(what) in force; nothing to change",
                output: done.output)
        case .failure(let error):
            return BootReport.Section(changed: false, ok: false, detail: error.description, output: nil)
        }
    }

    static func message(_ outcome: Result<CallOutcome, AiosError>, empty: String = "") -> String {
        if case .failure(let error) = outcome { return error.message }
        return empty
    }

    /// `127.0.0.1:5353` → ("127.0.0.1", 5353); `[::1]:53` → ("::1", 53); a bare address is port 53.
    static func hostPort(_ listen: String) -> (String, Int) {
        if listen.hasPrefix("["), let close = listen.firstIndex(of: "]") {
            let host = String(listen[listen.index(after: listen.startIndex)..<close])
            let rest = listen[listen.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? 53 : 53)
        }
        let parts = listen.split(separator: ":")
        if parts.count == 2 { return (String(parts[0]), Int(parts[1]) ?? 53) }
        return (listen, 53)
    }

    /// The calls of one boot, and whether any changed something.
    struct Run {
        let calls: any ToolCalling
        var changed = false

        mutating func note(_ outcome: CallOutcome) {
            if outcome.status == .applied || outcome.status == .awaitingConfirmation { changed = true }
        }

        mutating func call(_ tool: String, _ input: JSONValue, guardOptions: GuardOptions? = nil) async -> Result<
            CallOutcome, AiosError
        > {
            let outcome = await Self.execute(calls, tool, input, guardOptions: guardOptions)
            if case .success(let done) = outcome { note(done) }
            return outcome
        }

        static func execute(
            _ calls: any ToolCalling, _ tool: String, _ input: JSONValue, guardOptions: GuardOptions? = nil
        ) async -> Result<CallOutcome, AiosError> {
            await calls.result(
                ToolCall(tool: tool, input: input, origin: .boot, guardOptions: guardOptions, subject: "boot"))
        }
    }
}
