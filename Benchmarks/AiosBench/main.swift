// Dispatch overhead of the full pipeline (validate + policy + plan + apply + audit row in WAL SQLite)
// for a trivial read tool, in-process and through the control socket, with the same call with audit
// disabled as the denominator. Prints calls/s and p50/p99; compare runs by the ratios, not the
// absolute figures (the machine is shared and noisy).
//
//   swift build -c release --product aios-bench --product aios-net
//   sudo .build/release/aios-bench [--calls 20000]
import AiosControl
import AiosCore
import AiosDaemon
import AiosLinux
import AiosNftables
import AiosStore
import Foundation
import Logging

struct Figures {
    var label: String
    var latenciesMicros: [Double]
    var seconds: Double

    var rate: Double { Double(latenciesMicros.count) / seconds }
    func percentile(_ p: Double) -> Double {
        let sorted = latenciesMicros.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    var line: String {
        String(
            format: "%-44@ %10.0f calls/s   p50 %8.1f µs   p99 %8.1f µs", label as NSString, rate, percentile(0.5),
            percentile(0.99))
    }
}

func measure(_ label: String, calls: Int, _ body: () async throws -> Void) async throws -> Figures {
    for _ in 0..<min(500, calls / 10) { try await body() }  // warm-up
    var latencies: [Double] = []
    latencies.reserveCapacity(calls)
    let start = ContinuousClock.now
    for _ in 0..<calls {
        let t0 = ContinuousClock.now
        try await body()
        let d = ContinuousClock.now - t0
        latencies.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
    }
    let total = ContinuousClock.now - start
    return Figures(
        label: label, latenciesMicros: latencies,
        seconds: Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18)
}

let arguments = CommandLine.arguments
if arguments.contains("--help") || arguments.contains("-h") {
    print(BenchSupport.usage)
    exit(0)
}
do {
    if arguments.contains("planning") {
        try await PlanningFigures.run(arguments: arguments)
    } else if arguments.contains("firewall") {
        try await FirewallBench.run(arguments: arguments)
    } else if arguments.contains("dns") {
        try await DNSBench.run(arguments: arguments)
    } else if arguments.contains("boot") {
        try await BootBench.run(arguments: arguments)
    } else if arguments.contains("goals") {
        try await GoalsBench.run(arguments: arguments)
    } else if arguments.contains("net") {
        try await NetBench.run(arguments: arguments)
    } else {
        try await dispatchBench()
    }
} catch {
    // Reported, never a crash at top level.
    FileHandle.standardError.write(Data("aios-bench: \(error)\n".utf8))
    exit(1)
}

func dispatchBench() async throws {
    let calls = CommandLine.arguments.firstIndex(of: "--calls").flatMap { Int(arguments[$0 + 1]) } ?? 20_000
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    try "ready".write(toFile: "\(work)/lab-flag", atomically: true, encoding: .utf8)

    let policy = try PolicyLoader.load(path: nil)
    let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    let store = try Store(dataDirectory: "\(work)/db")
    let registry = try Assembly.registry(
        DaemonOptions(dataDirectory: work, socketPath: "", labTools: true), store: store, nft: try Nftables(),
        logger: logger)
    let call = { ToolCall(tool: "lab.flag_check", input: ["expect": "ready"], origin: .user) }

    let bare = Orchestrator(
        registry: registry, policies: PolicyHolder(policy), audit: DiscardingAuditSink(), guards: store, logger: logger)
    let audited = Orchestrator(
        registry: registry, policies: PolicyHolder(policy), audit: store, guards: store, logger: logger)

    print("aios-net dispatch benchmark: \(calls) calls of lab.flag_check (a trivial read) per figure, default policy")
    let noAudit = try await measure("in-process, audit disabled (denominator)", calls: calls) {
        _ = try await bare.execute(call())
    }
    print(noAudit.line)
    let withAudit = try await measure("in-process, audit row in WAL SQLite", calls: calls) {
        _ = try await audited.execute(call())
    }
    print(withAudit.line)

    // Through the control socket: the real daemon binary, one connection per call (as the CLI does).
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "aios-net"
    ).path
    let socketPath = "\(work)/control.sock"
    try FileManager.default.createDirectory(atPath: "\(work)/daemon", withIntermediateDirectories: true)
    try "ready".write(toFile: "\(work)/daemon/lab-flag", atomically: true, encoding: .utf8)
    let daemon = try ChildProcess.spawn(
        ChildSpec(
            executable: binary,
            arguments: [
                "daemon", "--goals-dir", "off", "--data-dir", "\(work)/daemon", "--socket", socketPath, "--lab-tools",
                "--log-level", "error",
                "--dns-listen", "off",
            ]))
    defer { ChildProcess.stop(daemon) }
    let client = ControlClient(socketPath: socketPath)
    let deadline = Date().addingTimeInterval(20)
    while (try? client.send("status")) == nil, Date() < deadline { usleep(20_000) }
    let params = try JSONValue(encoding: CallParams(tool: "lab.flag_check", input: ["expect": "ready"]))
    let socketCalls = max(1000, calls / 4)
    let viaSocket = try await measure("control socket, audit on (new connection/call)", calls: socketCalls) {
        _ = try client.send("call", params)
    }
    print(viaSocket.line)

    print(
        String(
            format: "ratio audit/bare (p50): %.2fx   (target < 2x)", withAudit.percentile(0.5) / noAudit.percentile(0.5)
        )
    )
    print(String(format: "ratio socket/in-process (p50): %.2fx", viaSocket.percentile(0.5) / withAudit.percentile(0.5)))
    print(String(format: "in-process p50 with audit: %.3f ms   (target < 1 ms)", withAudit.percentile(0.5) / 1000))

}
