import AiosControl
import AiosCore
import AiosDNSTools
import AiosLinux
import AiosUnbound
import Foundation

/// DNS figures, run inside a network namespace made for it (its unbound listens on 127.0.0.1:53
/// there, never the host's):
///
///   ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench dns; ip netns del aios-bench
///
/// 1. Parse + normalise + dedupe a deterministic 1,000,000-line hosts file (10 % duplicates):
///    names/s, and the ratio to `LC_ALL=C sort -u` of the same file in the same run (median of 5).
/// 2. The same million names (no parent overlaps) as a list in the daemon's managed unbound: time
///    to load, unbound's RSS vs a bare unbound given the same zones in its config file, query
///    latency p50/p99 for a blocked and a not-blocked (cached) name, vs the same with no list.
/// 3. An update that adds 10k names to and removes 10k from the million: time, and the longest
///    gap between answers seen by a prober querying every 2 ms.
enum DNSBench {
    static func run(arguments: [String]) async throws {
        let size = arguments.firstIndex(of: "--names").flatMap { Int(arguments[$0 + 1]) } ?? 1_000_000
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-dnsbench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        print("aios-net DNS benchmark (inside a network namespace), \(size) names")
        try parse(size: size, work: work)
        try await resolver(
            size: size, work: work,
            binary: URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("aios-net")
                .path)
    }

    /// A deterministic name: letters from a linear congruential sequence, unique per index.
    static func name(_ index: Int, salt: UInt64 = 0) -> String {
        var state = UInt64(index) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 &+ salt
        var label = ""
        for _ in 0..<8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            label.append(Character(Unicode.Scalar(UInt8(97 + (state >> 33) % 26))))
        }
        return "\(label)\(index).example\(index % 97).net"
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func parse(size: Int, work: String) throws {
        var text: [UInt8] = []
        text.reserveCapacity(size * 40)
        for index in 0..<size {
            // 10 % of the lines repeat an earlier name.
            let name = index % 10 == 9 ? Self.name(index / 2) : Self.name(index)
            text += Array("0.0.0.0 \(name)\n".utf8)
        }
        let path = "\(work)/hosts.txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text))
        var ours: [Double] = []
        var unique = 0
        for _ in 0..<5 {
            let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
            ours.append(seconds { unique = BlocklistSummary.of(bytes, prune: false).unique })
        }
        var sort: [Double] = []
        for _ in 0..<5 {
            sort.append(
                try seconds {
                    let result = try ChildProcess.spawn(
                        ChildSpec(executable: "/bin/sh", arguments: ["-c", "LC_ALL=C sort -u \(path) > /dev/null"]))
                    _ = waitpid(result, nil, 0)
                })
        }
        print(
            String(
                format:
                    "parse %d lines (%d unique): %.3f s, %.0f names/s; LC_ALL=C sort -u %.3f s; ratio %.2fx (goal <= 2x)",
                size, unique, median(ours), Double(size) / median(ours), median(sort), median(ours) / median(sort)))
    }

    static func resolver(size: Int, work: String, binary: String) async throws {
        // The list: unique two-label-plus names, no name below another, so every one is a zone.
        let listPath = "\(work)/million.txt"
        var list: [UInt8] = []
        list.reserveCapacity(size * 32)
        for index in 0..<size { list += Array("\(name(index))\n".utf8) }
        _ = FileManager.default.createFile(atPath: listPath, contents: Data(list))

        // The namespace made for the bench may have lo down: the resolver listens there.
        try BenchSupport.loopbackUp()
        let data = "\(work)/data"
        let socket = "\(work)/control.sock"
        let daemon = try ChildProcess.spawn(
            ChildSpec(
                executable: binary,
                arguments: [
                    "daemon", "--goals-dir", "off", "--data-dir", data, "--socket", socket, "--log-level", "error",
                    "--dns-listen",
                    "127.0.0.1:53",
                ],
                logPath: "\(work)/daemon.log"))
        defer { ChildProcess.stop(daemon) }
        let client = ControlClient(socketPath: socket)
        while (try? client.send("status")) == nil { usleep(20_000) }
        func status() throws -> JSONValue {
            try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(
                        tool: "dns.status", inputText: "{}", dryRun: false, yes: false, guardOptions: nil)))["output"]
                ?? .null
        }
        while (try? status()["running"]) != .bool(true) { usleep(20_000) }
        // The daemon leaves its unbound running when it stops (as under systemd); a bench, like a
        // test, ends every process it started.
        // The one running at the end (a big load replaces it), and the first.
        let first = try status()["pid"]?.intValue.map(Int32.init)
        defer {
            if let last = (try? status()["pid"]?.intValue).flatMap({ $0 }) { ChildProcess.stop(Int32(last)) }
            if let first { ChildProcess.stop(first) }
        }
        _ = try client.send(
            "call",
            try JSONValue(
                encoding: CallParams(
                    tool: "dns.records_set", inputText: #"{"name": "cached.bench.example", "address": "192.0.2.9"}"#,
                    dryRun: false, yes: false, guardOptions: nil)))
        let empty = latencies("cached.bench.example")
        let baselineRSS = try status()["memory"]?["rss_bytes"]?.intValue ?? 0

        var loaded: JSONValue = .null
        let loadProber = Prober()
        let loadProbing = Thread { loadProber.run() }
        loadProbing.start()
        let load = try seconds {
            loaded = try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(
                        tool: "dns.blocklist_add", inputText: #"{"name": "million", "source": "\#(listPath)"}"#,
                        dryRun: false, yes: false, guardOptions: nil)))
        }
        loadProber.stop()
        while !loadProber.finished { usleep(10_000) }
        let after = try status()
        let rss = after["memory"]?["rss_bytes"]?.intValue ?? 0
        let cached = latencies("cached.bench.example")
        let blocked = latencies(name(size / 2))
        print(
            String(
                format:
                    "load %d zones into the running unbound: %.2f s (%@ batches, replaced %@); longest gap between answers %.1f ms, %d unanswered",
                loaded["output"]?["zones"]?.intValue ?? 0, load,
                loaded["output"]?["resolver"]?["batches"]?.jsonText ?? "?",
                loaded["output"]?["resolver"]?["replaced"]?.jsonText ?? "?", loadProber.longestGapMs, loadProber.failed)
        )

        // A bare unbound given the same zones in its config file, for the memory baseline.
        let bare = "\(work)/bare"
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        var zones = Array(
            "server:\n    interface: 127.0.0.2@5353\n    do-daemonize: no\n    username: \"\"\n    chroot: \"\"\n    pidfile: \"\"\n    use-syslog: no\n    num-threads: 1\n    include: \"\(data)/dns/blocklist.conf\"\n"
                .utf8)
        zones += Array("remote-control:\n    control-enable: no\n".utf8)
        _ = FileManager.default.createFile(atPath: "\(bare)/unbound.conf", contents: Data(zones))
        let bareStart = ContinuousClock.now
        let barePID = try ChildProcess.spawn(
            ChildSpec(
                executable: "/usr/sbin/unbound", arguments: ["-d", "-c", "\(bare)/unbound.conf"], logPath: "\(bare)/log"
            ))
        defer { ChildProcess.stop(barePID) }
        while (try? DNSProbe.query("x.example", address: "127.0.0.2", port: 5353, timeoutMs: 100)) == nil {
            usleep(10_000)
        }
        let bareSeconds = ContinuousClock.now - bareStart
        let bareRSS = rssOf(barePID)
        let bareStartSeconds =
            Double(bareSeconds.components.seconds) + Double(bareSeconds.components.attoseconds) / 1e18
        print(String(format: "first load / bare start with the zones: %.2fx (goal <= 2x)", load / bareStartSeconds))
        print(
            String(
                format:
                    "unbound RSS with the zones: %.0f MB (before the list %.0f MB); bare unbound with them in its config: %.0f MB, started in %.2f s; ratio %.2fx (goal <= 1.1x)",
                Double(rss) / 1e6, Double(baselineRSS) / 1e6, Double(bareRSS) / 1e6,
                Double(bareSeconds.components.seconds) + Double(bareSeconds.components.attoseconds) / 1e18,
                Double(rss) / Double(max(1, bareRSS))))
        print(String(format: "query latency, no list:        cached p50 %.3f ms p99 %.3f ms", empty.p50, empty.p99))
        print(
            String(
                format: "query latency, %d zones:  cached p50 %.3f ms p99 %.3f ms; blocked p50 %.3f ms p99 %.3f ms",
                size, cached.p50, cached.p99, blocked.p50, blocked.p99))

        // The update: 10k names in, 10k out, while a prober asks every 2 ms.
        var update: [UInt8] = []
        for index in 10_000..<size { update += Array("\(name(index))\n".utf8) }
        for index in 0..<10_000 { update += Array("\(name(index, salt: 77))\n".utf8) }
        _ = FileManager.default.createFile(atPath: listPath, contents: Data(update))
        let prober = Prober()
        let probing = Thread { prober.run() }
        probing.start()
        var updated: JSONValue = .null
        let updateSeconds = try seconds {
            updated = try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(
                        tool: "dns.blocklist_refresh", inputText: #"{"name": "million"}"#, dryRun: false, yes: false,
                        guardOptions: nil)))
        }
        prober.stop()
        while !prober.finished { usleep(10_000) }
        _ = updated
        let block = try seconds {
            _ = try client.send(
                "call",
                try JSONValue(
                    encoding: CallParams(
                        tool: "dns.block", inputText: #"{"name": "one-more.bench.example"}"#, dryRun: false, yes: false,
                        guardOptions: nil)))
        }
        print(String(format: "one dns.block with %d zones loaded: %.2f s (goal <= 1 s)", size, block))
        print(
            String(
                format:
                    "update +10k/-10k in %d: %.2f s (parse and diff included); longest gap between answers %.1f ms, %d answered, %d unanswered (goal: no gap over 50 ms)",
                size, updateSeconds, prober.longestGapMs, prober.answered, prober.failed))
    }

    static func latencies(_ name: String, count: Int = 5000) -> (p50: Double, p99: Double) {
        var times: [Double] = []
        for _ in 0..<count {
            if let reply = try? DNSProbe.query(name, address: "127.0.0.1", port: 53, timeoutMs: 1000) {
                times.append(reply.milliseconds)
            }
        }
        times.sort()
        guard !times.isEmpty else { return (0, 0) }
        return (times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)])
    }

    static func rssOf(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

/// Asks the resolver for a cached name every 2 ms and keeps the longest gap between answers.
final class Prober: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private(set) var finished = false
    private(set) var longestGapMs = 0.0
    private(set) var answered = 0
    private(set) var failed = 0

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
    }

    func run() {
        var last = DispatchTime.now().uptimeNanoseconds
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { break }
            if (try? DNSProbe.query("cached.bench.example", address: "127.0.0.1", port: 53, timeoutMs: 1000)) != nil {
                let now = DispatchTime.now().uptimeNanoseconds
                longestGapMs = max(longestGapMs, Double(now - last) / 1e6)
                last = now
                answered += 1
            } else {
                failed += 1
            }
            usleep(2000)
        }
        finished = true
    }
}
