import AiosControl
import AiosCore
import AiosLinux
import Foundation

/// Network figures, run inside a network namespace made for it:
///
///   ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench net; ip netns del aios-bench
///
/// 1. `net.interfaces` with 1,000 veths present: through the daemon, and the in-process rtnetlink
///    dump it runs, vs `ip -j addr` in the same run (medians).
/// 2. One link change (MTU) in-process over rtnetlink vs spawning `ip link set` (per call).
/// 3. Link up → DHCP lease → gateway answers a ping, through the daemon (`net.configure dhcp` with
///    its options: `--nodelay`, `--noarp`), median of 5, vs a plain `dhcpcd -1` with its defaults
///    in the same lab (median of 3). dnsmasq serves with `--no-ping` in a second namespace.
enum NetBench {
    static func run(arguments: [String]) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-netbench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let binary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("aios-net")
            .path
        print("aios-net net benchmark (inside a network namespace)")
        let netlink = RouteNetlink()
        let daemon = try ChildProcess.spawn(
            ChildSpec(
                executable: binary,
                arguments: [
                    "daemon", "--goals-dir", "off", "--data-dir", "\(work)/data", "--socket", "\(work)/control.sock",
                    "--log-level", "error",
                    "--dns-listen", "off",
                ],
                logPath: "\(work)/daemon.log"))
        defer { ChildProcess.stop(daemon) }
        let client = ControlClient(socketPath: "\(work)/control.sock")
        while (try? client.send("status")) == nil { usleep(20_000) }
        func call(_ tool: String, _ input: String, yes: Bool = false) throws -> JSONValue {
            try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(tool: tool, inputText: input, dryRun: false, yes: yes, guardOptions: nil)))
        }

        // 1. 1,000 interfaces.
        for index in 0..<500 { try netlink.createVeth("bv\(index)a", peer: "bv\(index)b") }
        let count = try netlink.links().count
        let viaDaemon = try median(10) { _ = try call("net.interfaces", "{}") }
        let inProcess = try median(20) {
            _ = try netlink.links()
            _ = try netlink.addresses()
        }
        let ipTool = try median(20) { try shell("/usr/sbin/ip", ["-j", "addr"]) }
        print(
            String(
                format:
                    "net.interfaces with %d links: through the daemon %.1f ms, its rtnetlink dump %.1f ms; ip -j addr %.1f ms (ratio daemon/ip %.2fx)",
                count, viaDaemon, inProcess, ipTool, viaDaemon / ipTool))

        // 2. One change, in process vs a process per change.
        let index = try netlink.linkIndex(named: "bv0a")!
        let inProcessChange =
            try median(1) {
                for round in 0..<1000 { try netlink.setLink(index: index, mtu: round % 2 == 0 ? 1400 : 1500) }
            } / 1000
        let spawned =
            try median(1) {
                for round in 0..<200 {
                    try shell("/usr/sbin/ip", ["link", "set", "dev", "bv0a", "mtu", round % 2 == 0 ? "1400" : "1500"])
                }
            } / 200
        print(
            String(
                format: "link change (MTU): in-process rtnetlink %.3f ms, spawning ip %.3f ms (ratio %.0fx)",
                inProcessChange, spawned, spawned / inProcessChange))
        for index in 0..<500 {
            if let link = try netlink.linkIndex(named: "bv\(index)a") { try netlink.deleteLink(index: link) }
        }

        // 3. DHCP: a server namespace with dnsmasq on the far end of a veth.
        let server = "aios-bench-dhcp-\(getpid())"
        try shell("/usr/sbin/ip", ["netns", "add", server])
        defer { _ = try? shell("/usr/sbin/ip", ["netns", "del", server]) }
        try netlink.createVeth("dh0", peer: "dh0s", peerNamespace: .named(server))
        let serverLink = RouteNetlink(namespace: .named(server))
        let serverIndex = try serverLink.linkIndex(named: "dh0s")!
        try serverLink.addAddress(CIDR("10.66.0.1/24")!, index: serverIndex)
        try serverLink.setLink(index: serverIndex, up: true)
        let dnsmasq = try ChildProcess.spawn(
            ChildSpec(
                executable: "/usr/sbin/ip",
                arguments: [
                    "netns", "exec", server, "dnsmasq", "--no-daemon", "--keep-in-foreground", "--no-resolv",
                    "--no-hosts",
                    "--port=0", "--interface=dh0s", "--bind-interfaces", "--dhcp-range=10.66.0.50,10.66.0.250,1h",
                    "--dhcp-option=3,10.66.0.1", "--no-ping", "--pid-file=", "--dhcp-leasefile=\(work)/leases",
                ], logPath: "\(work)/dnsmasq.log"))
        defer { ChildProcess.stop(dnsmasq) }
        let dh0 = try netlink.linkIndex(named: "dh0")!
        var ours: [Double] = []
        for _ in 0..<5 {
            _ = try call(
                "net.configure", #"{"interface": "dh0", "method": "static", "addresses": ["10.66.0.9/24"]}"#, yes: true)
            try netlink.setLink(index: dh0, up: false)
            ours.append(
                try elapsedMs {
                    _ = try call("net.link_set", #"{"interface": "dh0", "up": true}"#, yes: true)
                    _ = try call("net.configure", #"{"interface": "dh0", "method": "dhcp"}"#, yes: true)
                    _ = try call("net.ping", #"{"host": "10.66.0.1", "count": 1, "timeout_ms": 2000}"#)
                })
        }
        _ = try call(
            "net.configure", #"{"interface": "dh0", "method": "static", "addresses": ["10.66.0.9/24"]}"#, yes: true)
        // Plain dhcpcd -1 with its defaults (ARP probe, start delay), in a private /run like ours.
        let state = "\(work)/plain-state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try "#!/bin/sh\nexit 0\n".write(toFile: "\(work)/hook", atomically: true, encoding: .utf8)
        chmod("\(work)/hook", 0o755)
        _ = FileManager.default.createFile(atPath: "\(work)/empty.conf", contents: Data())
        // Plain dhcpcd with its defaults, and tuned the way aios-net runs it but keeping the ARP
        // probe (`--nodelay`): the same lab, the same server, in the same run.
        func dhcpcd(_ extra: [String]) async throws -> Double {
            try? netlink.removeAddress(CIDR("10.66.0.9/24")!, index: dh0)
            try netlink.setLink(index: dh0, up: false)
            let ms = try await elapsedMs {
                try netlink.setLink(index: dh0, up: true)
                let pid = try ChildProcess.spawn(
                    ChildSpec(
                        executable: "/usr/sbin/dhcpcd",
                        arguments: ["-1", "-4", "-t", "30"] + extra + [
                            "-f", "\(work)/empty.conf", "-c", "\(work)/hook", "dh0",
                        ],
                        logPath: "\(work)/plain.log", privateRun: ["/run/dhcpcd"], bind: [state, "/var/lib/dhcpcd"]))
                _ = await ChildProcess.waitForExit(pid)
                _ = try ICMPEcho.ping(address: "10.66.0.1", count: 1, timeoutMs: 2000)
            }
            if let address = try netlink.addresses().first(where: { $0.index == dh0 && $0.family == 2 }) {
                try? netlink.removeAddress(CIDR("\(address.address)/\(address.prefixLength)")!, index: dh0)
            }
            for route in try netlink.routes() where route.outputIndex == dh0 && route.destination == nil {
                try? netlink.removeRoute(
                    RouteSpec(destination: nil, family: 2, gateway: route.gateway, outputIndex: dh0))
            }
            return ms
        }
        var tuned: [Double] = []
        for _ in 0..<3 { tuned.append(try await dhcpcd(["--nodelay"])) }
        let networkd = try await networkdPeer(arguments: arguments, interface: "dh0", index: dh0, netlink: netlink)
        var plain: [Double] = []
        for _ in 0..<3 {
            try? netlink.removeAddress(CIDR("10.66.0.9/24")!, index: dh0)
            try netlink.setLink(index: dh0, up: false)
            plain.append(
                try await elapsedMs {
                    try netlink.setLink(index: dh0, up: true)
                    let pid = try ChildProcess.spawn(
                        ChildSpec(
                            executable: "/usr/sbin/dhcpcd",
                            arguments: [
                                "-1", "-4", "-t", "30", "-f", "\(work)/empty.conf", "-c", "\(work)/hook", "dh0",
                            ],
                            logPath: "\(work)/plain.log", privateRun: ["/run/dhcpcd"], bind: [state, "/var/lib/dhcpcd"])
                    )
                    _ = await ChildProcess.waitForExit(pid)
                    _ = try ICMPEcho.ping(address: "10.66.0.1", count: 1, timeoutMs: 2000)
                })
            if let address = try netlink.addresses().first(where: { $0.index == dh0 && $0.family == 2 }) {
                try? netlink.removeAddress(CIDR("\(address.address)/\(address.prefixLength)")!, index: dh0)
            }
        }
        print(
            String(
                format:
                    "link up → DHCP lease → gateway pings: aios-net %.0f ms (median of 5); plain dhcpcd -1 with its defaults %.0f ms (median of 3); ratio %.3fx",
                median(ours), median(plain), median(ours) / median(plain)))
        print(
            String(
                format:
                    "  dhcpcd tuned (--nodelay, ARP probe kept) %.0f ms (median of 3); ratio aios-net / tuned %.2fx",
                median(tuned), median(ours) / median(tuned)))
        if let networkd {
            print(
                String(
                    format:
                        "  systemd-networkd as the DHCP client: link up → default route %.0f ms, → gateway ping %.0f ms (median of 3); ratio aios-net / networkd (to the ping) %.2fx (goal <= 1)",
                    networkd.route, networkd.ping, median(ours) / networkd.ping))
        }
    }

    /// systemd-networkd as the DHCP client on `interface` of this namespace, through the shared
    /// tool `networkd-peer` (`--networkd-peer PATH`, default `../shared/tools/networkd-peer`, run
    /// from the package root): medians of three runs, or nil (said why) when it cannot run here.
    static func networkdPeer(arguments: [String], interface: String, index: Int32, netlink: RouteNetlink)
        async throws -> (route: Double, ping: Double)?
    {
        let tool =
            arguments.firstIndex(of: "--networkd-peer").map { arguments[$0 + 1] } ?? "../shared/tools/networkd-peer"
        guard FileManager.default.isExecutableFile(atPath: tool),
            FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-networkd")
        else {
            print("  systemd-networkd: not measured (needs \(tool) and Debian's systemd package)")
            return nil
        }
        // networkd-peer takes a namespace name: this one's, found by its inode under /run/netns.
        var own = stat()
        stat("/proc/self/ns/net", &own)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        guard
            let name = names.first(where: { name in
                var info = stat()
                return stat("/run/netns/\(name)", &info) == 0 && info.st_ino == own.st_ino
            })
        else {
            print("  systemd-networkd: not measured (run the bench inside a named namespace: ip netns exec NAME)")
            return nil
        }
        var routes: [Double] = []
        var pings: [Double] = []
        for _ in 0..<3 {
            for address in try netlink.addresses() where address.index == index && address.family == 2 {
                try? netlink.removeAddress(CIDR("\(address.address)/\(address.prefixLength)")!, index: index)
            }
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("aios-networkd-\(getpid()).out")
                .path
            try? FileManager.default.removeItem(atPath: log)
            let pid = try ChildProcess.spawn(
                ChildSpec(
                    executable: tool, arguments: [name, interface],
                    environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], logPath: log))
            _ = await ChildProcess.waitForExit(pid)
            let line = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: log)
            // "networkd: link up -> default route N ms; -> gateway ping M ms"
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Double($0) }
            guard numbers.count >= 2 else {
                print("  systemd-networkd: \(line.trimmingCharacters(in: .whitespacesAndNewlines))")
                return nil
            }
            routes.append(numbers[0])
            pings.append(numbers[1])
        }
        return (median(routes), median(pings))
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs { times.append(try elapsedMs(body)) }
        return median(times)
    }

    static func elapsedMs(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    static func elapsedMs(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    @discardableResult
    static func shell(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let pid = try ChildProcess.spawn(ChildSpec(executable: executable, arguments: arguments, logPath: "/dev/null"))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }
}
