import AiosControl
import AiosCore
import AiosLinux
import AiosTesting
import Foundation

/// Boot figures, run inside a network namespace made for it:
///
///   ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench boot; ip netns del aios-bench
///
/// A veth to a server namespace with dnsmasq (DHCP, DNS) and an HTTPS site. `aios-net boot` from
/// the link down to verified connectivity (DHCP with the one-probe ARP conflict check, gateway
/// ping, a DNS answer, the HTTPS site), five times, against systemd-networkd as the DHCP client in
/// the same lab and run (link up → default route → gateway ping, `networkd-peer`). Then the
/// fallback: a link with no DHCP server, from "no offer" to verified connectivity.
enum BootBench {
    static func run(arguments: [String]) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-bootbench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let binary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("aios-net")
            .path
        print("aios-net boot benchmark (inside a network namespace)")
        try BenchSupport.loopbackUp()
        let netlink = RouteNetlink()

        // The server: DHCP and DNS (dnsmasq), HTTPS (python3, a certificate for its address).
        let server = "aios-bench-boot-\(getpid())"
        try NetBench.shell("/usr/sbin/ip", ["netns", "add", server])
        defer { _ = try? NetBench.shell("/usr/sbin/ip", ["netns", "del", server]) }
        try netlink.createVeth("bt0", peer: "bt0s", peerNamespace: .named(server))
        let serverLink = RouteNetlink(namespace: .named(server))
        let serverIndex = try serverLink.linkIndex(named: "bt0s")!
        try serverLink.addAddress(CIDR("10.67.0.1/24")!, index: serverIndex)
        try serverLink.setLink(index: serverIndex, up: true)
        if let lo = try serverLink.linkIndex(named: "lo") { try serverLink.setLink(index: lo, up: true) }
        let dnsmasq = try ChildProcess.spawn(
            ChildSpec(
                executable: "/usr/sbin/ip",
                arguments: [
                    "netns", "exec", server, "dnsmasq", "--no-daemon", "--keep-in-foreground", "--no-resolv",
                    "--no-hosts", "--interface=bt0s", "--bind-interfaces", "--dhcp-range=10.67.0.50,10.67.0.250,1h",
                    "--dhcp-option=3,10.67.0.1", "--dhcp-option=6,10.67.0.1", "--no-ping", "--pid-file=",
                    "--host-record=site.boot.example,10.67.0.1", "--dhcp-leasefile=\(work)/leases",
                ], logPath: "\(work)/dnsmasq.log"))
        defer { ChildProcess.stop(dnsmasq) }
        guard
            try NetBench.shell(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=10.67.0.1",
                    "-addext", "subjectAltName=IP:10.67.0.1", "-keyout", "\(work)/key.pem", "-out", "\(work)/cert.pem",
                ]) == 0
        else { throw AiosError(.failed, "openssl could not make the lab certificate") }
        try FileManager.default.createDirectory(atPath: "\(work)/site", withIntermediateDirectories: true)
        try "ok\n".write(toFile: "\(work)/site/index.html", atomically: true, encoding: .utf8)
        let https = try ChildProcess.spawn(
            ChildSpec(
                executable: "/usr/sbin/ip",
                arguments: [
                    "netns", "exec", server, "python3", "-c", LabPrograms.httpsServer, "\(work)/site",
                    "\(work)/cert.pem",
                    "\(work)/key.pem", "10.67.0.1", "8443",
                ], logPath: "\(work)/https.log"))
        defer { ChildProcess.stop(https) }
        try "nameserver 10.67.0.1\n".write(toFile: "\(work)/resolv.conf", atomically: true, encoding: .utf8)

        let daemon = try ChildProcess.spawn(
            ChildSpec(
                executable: binary,
                arguments: [
                    "daemon", "--goals-dir", "off", "--data-dir", "\(work)/data", "--socket", "\(work)/control.sock",
                    "--log-level", "error", "--dns-listen", "off", "--resolv-conf", "\(work)/resolv.conf",
                    "--ca-file", "\(work)/cert.pem", "--auto-configure", "off",
                ],
                logPath: "\(work)/daemon.log"))
        defer { ChildProcess.stop(daemon) }
        let client = ControlClient(socketPath: "\(work)/control.sock")
        while (try? client.send("status")) == nil { usleep(20_000) }
        while !((try? String(contentsOfFile: "\(work)/https.log", encoding: .utf8))?.contains("serving") ?? false) {
            usleep(20_000)
        }
        let goal = """
            kind: Connectivity
            name: boot
            spec:
              links: {use: [bt0]}
              checks: {gateway_ping: true, dns: site.boot.example, https: "https://10.67.0.1:8443/"}

            """
        let bt0 = try netlink.linkIndex(named: "bt0")!
        func reset() throws {
            _ = try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(
                        tool: "net.configure",
                        input: ["interface": "bt0", "method": "static", "addresses": ["10.67.0.9/24"]],
                        yes: true)))
            try? netlink.removeAddress(CIDR("10.67.0.9/24")!, index: bt0)
            try netlink.setLink(index: bt0, up: false)
        }
        var toPing: [Double] = []
        var verified: [Double] = []
        var dhcp: [Double] = []
        var ping: [Double] = []
        for _ in 0..<5 {
            try reset()
            let start = ContinuousClock.now
            let report = try client.send("boot", ["goal": .string(goal), "resolv_conf": "off", "timeout_ms": 30_000])
            let total = GoalsBench.milliseconds(ContinuousClock.now - start)
            guard report["ok"] == true else { throw AiosError(.failed, "boot failed: \(report.jsonText)") }
            let later = (report["checks"]?.arrayValue ?? []).filter { $0["name"] != "gateway_ping" }
                .compactMap { $0["ms"]?.intValue }.reduce(0, +)
            verified.append(total)
            dhcp.append(Double(report["links"]?.arrayValue?.first?["ms"]?.intValue ?? 0))
            ping.append(Double(report["checks"]?.arrayValue?.first?["ms"]?.intValue ?? 0))
            toPing.append(total - Double(later))
        }
        print(
            String(
                format:
                    "aios-net boot, link down → verified (DHCP + ARP check, gateway ping, DNS, HTTPS): %.0f ms (median of 5); → gateway ping %.0f ms (DHCP %.0f ms, the ping check %.0f ms)",
                NetBench.median(verified), NetBench.median(toPing), NetBench.median(dhcp), NetBench.median(ping)))
        // The same lease through the calls alone (link up, net.configure dhcp, net.ping).
        var alone: [Double] = []
        for _ in 0..<5 {
            try reset()
            let start = ContinuousClock.now
            for (tool, input) in [
                ("net.link_set", ["interface": "bt0", "up": true] as JSONValue),
                ("net.configure", ["interface": "bt0", "method": "dhcp"]),
                ("net.ping", ["host": "10.67.0.1", "count": 1, "timeout_ms": 2000]),
            ] {
                _ = try client.send("call", try JSONValue(encoding: CallParams(tool: tool, input: input, yes: true)))
            }
            alone.append(GoalsBench.milliseconds(ContinuousClock.now - start))
        }
        print(
            String(
                format: "  the same through the calls alone (link up, net.configure dhcp, net.ping): %.0f ms",
                NetBench.median(alone)))
        try reset()
        if let networkd = try await NetBench.networkdPeer(
            arguments: arguments, interface: "bt0", index: bt0, netlink: netlink)
        {
            print(
                String(
                    format:
                        "  systemd-networkd: link up → default route %.0f ms, → gateway ping %.0f ms (median of 3); ratio aios-net / networkd (to the ping) %.2fx (goal <= 1)",
                    networkd.route, networkd.ping, NetBench.median(toPing) / networkd.ping))
        }

        // The fallback: no DHCP server answers; the reasoned static configuration, then the checks.
        ChildProcess.stop(dnsmasq)
        try reset()
        let fallbackGoal = goal.replacingOccurrences(
            of: "links: {use: [bt0]}", with: "links: {use: [bt0]}\n  dhcp_timeout: 1s"
        )
        .replacingOccurrences(of: "dns: site.boot.example, ", with: "")
        let chatter = try ChildProcess.spawn(
            ChildSpec(
                executable: "/usr/sbin/ip",
                arguments: ["netns", "exec", server, "python3", "-c", LabPrograms.chatter, "10.67.0.77"],
                logPath: "\(work)/chatter.log"))
        defer { ChildProcess.stop(chatter) }
        let start = ContinuousClock.now
        let report = try client.send(
            "boot", ["goal": .string(fallbackGoal), "resolv_conf": "off", "timeout_ms": 30_000])
        let total = GoalsBench.milliseconds(ContinuousClock.now - start)
        let link = report["links"]?.arrayValue?.first
        print(
            String(
                format:
                    "fallback (no DHCP server, dhcp_timeout 1s): boot %.0f ms in all, %@ — %@; checks %@",
                total, (link?["method"]?.stringValue ?? "?") as NSString,
                (link?["addresses"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? "") as NSString,
                (report["ok"] == true ? "passed" : "FAILED") as NSString))
    }
}
