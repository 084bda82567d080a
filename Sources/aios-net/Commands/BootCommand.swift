import AiosControl
import AiosCore
import AiosGoals
import ArgumentParser
import Foundation

struct BootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "From no network to verified connectivity: apply the Connectivity goal once and report.",
        discussion: """
            Brings up the physical links, runs DHCP on all of them at once (the reasoned static
            fallback where no server answers), picks the default route, applies the default
            firewall under the guard, configures the resolver and points resolv.conf at it, then
            runs the checks. The goal is --goal FILE, else the Connectivity goal in the daemon's
            goals directory, else every physical link on DHCP with the gateway ping as the check
            (Examples/goals/connectivity.yaml is the full shape). Running it again changes nothing.

            Exit status: 0 when every check passed, 1 when one failed.

            Examples:
              aios-net boot
              aios-net boot --goal /etc/aios-net/goals.d/connectivity.yaml --json
              aios-net boot --timeout 60s --resolv-conf off
            """)
    @OptionGroup var client: ClientOptions

    @Option(name: .customLong("goal"), help: "A file with one Connectivity goal.")
    var goal: String?

    @Option(name: .customLong("timeout"), help: "How long boot may take, e.g. 30s.")
    var timeout: String = "30s"

    @Option(
        name: .customLong("resolv-conf"),
        help: "The file pointed at the managed resolver (default: the daemon's --resolv-conf; off: none).")
    var resolvConf: String?

    func run() async throws {
        let renderer = client.renderer
        try await renderer.run {
            guard let timeoutMs = try? DurationText.milliseconds(timeout), (1000...600_000).contains(timeoutMs) else {
                throw AiosError(
                    .invalidInput, "--timeout takes a duration between 1s and 10m, e.g. 30s",
                    location: InputLocation(field: "--timeout"))
            }
            var params: [String: JSONValue] = ["timeout_ms": .number(Double(timeoutMs))]
            if let goal {
                guard let text = try? String(contentsOfFile: goal, encoding: .utf8) else {
                    throw AiosError(.invalidInput, "cannot read \(goal)", location: InputLocation(file: goal))
                }
                params["goal"] = .string(text)
                params["source"] = .string(goal)
            }
            if let resolvConf { params["resolv_conf"] = .string(resolvConf) }
            let json = renderer.json
            let value = try client.client.send("boot", .object(params)) { progress in
                if !json { FileHandle.standardError.write(Data("… \(progress.stage)\n".utf8)) }
            }
            let report = try value.decode(as: BootReport.self)
            renderer.emit(value) { Self.text(report) }
            if !report.ok { throw ExitCode(1) }
        }
    }

    /// The report for people.
    static func text(_ report: BootReport) -> String {
        var lines = [
            "boot (\(report.goal)): \(report.ok ? "connected" : "NOT connected") in \(report.totalMs) ms"
                + (report.changed ? "" : "; nothing changed")
        ]
        lines.append("links:")
        if report.links.isEmpty { lines.append("  none found") }
        for link in report.links {
            let addresses = link.addresses.isEmpty ? "no address" : link.addresses.joined(separator: ", ")
            let time = link.ms.map { " (\($0) ms)" } ?? ""
            lines.append(
                "  \(link.name): \(link.method)\(time), \(link.carrier ? "carrier" : "no carrier"), \(addresses) — \(link.reason)"
            )
        }
        if let route = report.defaultRoute {
            lines.append(
                "default route: via \(route.gateway ?? "-") dev \(route.interface) — \(route.reason ?? "")")
        } else {
            lines.append("default route: none")
        }
        for route in report.failover { lines.append("  failover: via \(route.gateway ?? "-") dev \(route.interface)") }
        if let firewall = report.firewall { lines.append("firewall: \(firewall.detail)") }
        if let resolver = report.resolver { lines.append("resolver: \(resolver.detail)") }
        lines.append("checks:")
        if report.checks.isEmpty { lines.append("  none") }
        for check in report.checks {
            lines.append("  \(check.ok ? "ok  " : "FAIL") \(check.name) (\(check.ms) ms): \(check.detail)")
        }
        for problem in report.problems where !report.checks.contains(where: { problem.hasPrefix("\($0.name):") }) {
            lines.append("problem: \(problem)")
        }
        return lines.joined(separator: "\n")
    }
}
