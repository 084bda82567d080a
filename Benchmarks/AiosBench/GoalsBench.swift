import AiosControl
import AiosCore
import AiosLinux
import Foundation

/// Goal figures, run inside a network namespace made for it:
///
///   ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench goals; ip netns del aios-bench
///
/// 1. A `FirewallRule` goal file renamed into the watch directory → its element in the kernel's
///    set (read over nfnetlink), one file at a time, p50/p99 over 200 files.
/// 2. 1,000 goal files at once → 1,000 elements in the kernel, against the same 1,000
///    `firewall.allow` calls sent one by one through the control socket, in the same run.
/// 3. The daemon's resident memory with 1,200 goals applied, and its CPU while idle for 10 s.
enum GoalsBench {
    static let set = "input_allow_v4_src"

    static func run(arguments: [String]) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-goalbench-\(getpid())").path
        let goals = "\(work)/goals.d"
        try FileManager.default.createDirectory(atPath: goals, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let binary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("aios-net")
            .path
        try BenchSupport.loopbackUp()
        let daemon = try ChildProcess.spawn(
            ChildSpec(
                executable: binary,
                arguments: [
                    "daemon", "--goals-dir", goals, "--data-dir", "\(work)/data", "--socket", "\(work)/control.sock",
                    "--log-level", "error", "--dns-listen", "off",
                ],
                logPath: "\(work)/daemon.log"))
        defer { ChildProcess.stop(daemon) }
        let client = ControlClient(socketPath: "\(work)/control.sock")
        while (try? client.send("status")) == nil { usleep(20_000) }
        func call(_ tool: String, _ input: JSONValue, yes: Bool = false) throws -> JSONValue {
            try client.send("call", try JSONValue(encoding: CallParams(tool: tool, input: input, yes: yes)))
        }
        let applied = try call("firewall.apply_default", ["management_subnets": ["192.0.2.0/24"]], yes: true)
        if let id = applied["guard"]?["id"]?.stringValue { _ = try client.send("guard.confirm", ["id": .string(id)]) }
        let kernel = NftablesRules()
        func elements() -> Int { (try? kernel.setElements(family: .inet, table: "aios_firewall", set: set).count) ?? 0 }
        func drop(_ name: String, port: Int) throws {
            let text = "kind: FirewallRule\nname: \(name)\nspec: {action: allow, port: \(port), source: 10.1.0.1}\n"
            try text.write(toFile: "\(goals)/.\(name).tmp", atomically: false, encoding: .utf8)
            rename("\(goals)/.\(name).tmp", "\(goals)/\(name).yaml")
        }
        print("aios-net goals benchmark (inside a network namespace)")

        // 1. One file at a time.
        var latencies: [Double] = []
        for index in 0..<200 {
            let before = elements()
            let start = ContinuousClock.now
            try drop("one-\(index)", port: 10000 + index)
            while elements() == before {
                if ContinuousClock.now - start > .seconds(10) {
                    throw AiosError(.failed, "goal one-\(index) timed out")
                }
                usleep(100)
            }
            latencies.append(milliseconds(ContinuousClock.now - start))
        }
        latencies.sort()
        print(
            String(
                format: "file written → element in the kernel (FirewallRule, 200 files): p50 %.2f ms, p99 %.2f ms",
                latencies[100], latencies[197]))

        // 2. 1,000 at once against 1,000 direct calls.
        let base = elements()
        let directStart = ContinuousClock.now
        var ids: [JSONValue] = []
        for index in 0..<1000 {
            let outcome = try call("firewall.allow", ["port": .number(Double(30000 + index)), "source": "10.2.0.1"])
            if let id = outcome["output"]?["added"]?.arrayValue?.first?["id"] { ids.append(id) }
        }
        let direct = milliseconds(ContinuousClock.now - directStart)
        _ = try call("firewall.remove", ["ids": .array(ids)])
        let goalStart = ContinuousClock.now
        for index in 0..<1000 { try drop("many-\(index)", port: 40000 + index) }
        while elements() < base + 1000 {
            if ContinuousClock.now - goalStart > .seconds(300) { throw AiosError(.failed, "1,000 goals timed out") }
            usleep(20_000)  // a dump of the growing set costs CPU the daemon needs
        }
        let viaGoals = milliseconds(ContinuousClock.now - goalStart)
        print(
            String(
                format:
                    "1,000 goals at once: %.0f ms; the same 1,000 firewall.allow calls over the socket: %.0f ms (ratio %.2fx)",
                viaGoals, direct, viaGoals / direct))

        // 3. Memory and idle CPU with 1,200 goals.
        while (try? call("goal.list", [:]))?["output"]?["counts"]?["applied"]?.intValue != 1200 { usleep(50_000) }
        let ticks = { () -> Double in
            let stat = (try? String(contentsOfFile: "/proc/\(daemon)/stat", encoding: .utf8)) ?? ""
            let fields = stat[(stat.lastIndex(of: ")").map { stat.index(after: $0) } ?? stat.startIndex)...]
                .split(separator: " ")
            return Double(fields[11])! + Double(fields[12])!
        }
        let status = (try? String(contentsOfFile: "/proc/\(daemon)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map(String.init) ?? "VmRSS: ?"
        let before = ticks()
        sleep(10)
        let cpu = (ticks() - before) / Double(sysconf(Int32(_SC_CLK_TCK))) / 10 * 100
        print(
            String(
                format: "with 1,200 goals applied: daemon %@; idle CPU over 10 s %.2f %% of one core",
                rss.replacingOccurrences(of: "  ", with: "") as NSString, cpu))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
