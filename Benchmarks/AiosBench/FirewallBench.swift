import AiosControl
import AiosCore
import AiosLinux
import AiosNftables
import Foundation

/// Firewall figures, run inside a network namespace made for it (never the host's firewall):
///
///   ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench firewall; ip netns del aios-bench
///
/// For N = 1k, 10k, 100k allow entries with expiry: one `firewall.allow` batch through the daemon
/// vs the same elements as one raw libnftables transaction into a scratch table of the same set
/// type, in the same run (and, beside it, as the raw nfnetlink batch the daemon itself sends); the same batch as a dry run (the path without the kernel and the rows),
/// which gives the best ratio the path could reach; `firewall.list` / `firewall.status` latency with N present; and the
/// restore of 100k persisted entries after the table is deleted ("reboot") and the daemon restarts,
/// and its start after a SIGKILL with the table present (the entry sets are checked);
/// and the opt-in `firewall.status {"entries": true}`, which reads the sets whole.
enum FirewallBench {
    static func run(arguments: [String]) async throws {
        let sizes =
            arguments.firstIndex(of: "--sizes").map { arguments[$0 + 1].split(separator: ",").compactMap { Int($0) } }
            ?? [1000, 10_000, 100_000]
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("aios-fwbench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let binary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("aios-net")
            .path
        var daemon = try startDaemon(binary: binary, work: work)
        do {
            try await measure(sizes: sizes, binary: binary, work: work, daemon: &daemon)
        } catch {
            ChildProcess.stop(daemon)
            throw error
        }
        ChildProcess.stop(daemon)
    }

    static func measure(sizes: [Int], binary: String, work: String, daemon: inout Int32) async throws {
        let client = ControlClient(socketPath: "\(work)/control.sock")
        let applied = try client.send(
            "call",
            try JSONValue(
                encoding: CallParams(
                    tool: "firewall.apply_default", input: ["management_subnets": ["192.0.2.0/24"]], yes: true)))
        if let id = applied["guard"]?["id"]?.stringValue { _ = try client.send("guard.confirm", ["id": .string(id)]) }
        let nft = try Nftables()
        // Kept open for the run, as libnftables keeps its context's socket (and the daemon its own).
        let connection = NftablesConnection()
        print(
            "aios-net firewall benchmark (inside a network namespace); wall times, median of \(Self.repetitions) for the batches"
        )
        var port = 20000
        for (offset, size) in sizes.enumerated() {
            let entries: [JSONValue] = (0..<size).map { index in
                ["source": .string("10.\((index >> 16) & 255).\((index >> 8) & 255).\(index & 255)"), "port": 8080]
            }
            var ours: [Double] = []
            var inDaemon: [Double] = []
            var raw: [Double] = []
            var rawNetlink: [Double] = []
            var rawNetlinkDeletes: [Double] = []
            var dry: [Double] = []
            var removals: [Double] = []
            var rawDeletes: [Double] = []
            var ids: [JSONValue] = []
            let input: JSONValue = ["entries": .array(entries), "expires": "1h", "comment": "bench"]
            var encodings: [Double] = []
            for _ in 0..<Self.repetitions {
                // The request is encoded before the clock starts, as the raw transaction's document
                // is built before its clock starts: both figures time the same elements, ready in
                // memory, going into the kernel. The client's encoding is reported beside.
                let e0 = Date()
                let request = EncodedRequest(
                    "call", try JSONValue(encoding: CallParams(tool: "firewall.allow", input: input)))
                encodings.append(Date().timeIntervalSince(e0))
                // The same call as a dry run: everything on the path but the kernel transaction
                // and the rows (send, parse, validate, plan, audit, answer).
                let dryRequest = EncodedRequest(
                    "call", try JSONValue(encoding: CallParams(tool: "firewall.allow", input: input, dryRun: true)))
                waitIdle(daemon)
                let d0 = Date()
                _ = try client.send(dryRequest)
                dry.append(Date().timeIntervalSince(d0))
                // Both figures start with the daemon idle: its background work after a call (the
                // cache catching up, a batch freed) would otherwise land in the next measurement.
                waitIdle(daemon)
                let t0 = Date()
                let result = try client.send(request)
                ours.append(Date().timeIntervalSince(t0))
                inDaemon.append((result["duration_us"]?.intValue).map { Double($0) / 1e6 } ?? .nan)
                ids = (result["output"]?["added"]?.arrayValue ?? []).compactMap { $0["id"] }
                let all = try client.send(
                    "call",
                    try JSONValue(encoding: CallParams(tool: "firewall.list", input: ["limit": .number(Double(size))])))
                ids = (all["output"]?["rules"]?.arrayValue ?? []).compactMap { $0["id"] }
                waitIdle(daemon)
                let transactions = try rawTransaction(nft, connection, size: size)
                raw.append(transactions.add)
                rawDeletes.append(transactions.delete)
                rawNetlink.append(transactions.netlinkAdd)
                rawNetlinkDeletes.append(transactions.netlinkDelete)
                if raw.count < Self.repetitions {
                    let removal = EncodedRequest(
                        "call",
                        try JSONValue(encoding: CallParams(tool: "firewall.remove", input: ["ids": .array(ids)])))
                    waitIdle(daemon)
                    let r0 = Date()
                    _ = try client.send(removal)
                    removals.append(Date().timeIntervalSince(r0))
                }
            }
            let listMs = try median(20) {
                _ = try client.send("call", try JSONValue(encoding: CallParams(tool: "firewall.list", input: [:])))
            }
            let statusMs = try median(20) {
                _ = try client.send("call", try JSONValue(encoding: CallParams(tool: "firewall.status", input: [:])))
            }
            // The opt-in entry check reads every set whole: it grows with N (median of 3).
            let entriesMs = try median(3) {
                _ = try client.send(
                    "call", try JSONValue(encoding: CallParams(tool: "firewall.status", input: ["entries": true])))
            }
            // The hot path with N in force: one more rule (distinct each time), median of 5.
            let oneMs = try median(5) {
                port += 1
                _ = try client.send(
                    "call",
                    try JSONValue(
                        encoding: CallParams(
                            tool: "firewall.allow", input: ["port": .number(Double(port)), "source": "192.0.2.99"])))
            }
            let (o, d, r) = (median(ours), median(inDaemon), median(raw))
            // Each batch's ratio to the raw transaction run right after it (the machine's speed
            // drifts between batches), then their median.
            let ratio = median(zip(ours, raw).map { $0 / $1 })
            // The best ratio this path could reach if its kernel transaction cost exactly the raw
            // one and the rows cost nothing: (dry run + raw) / raw.
            let floor = median(zip(dry, raw).map { ($0 + $1) / $1 })
            // For comparison with figures before 2026-12-03 13:30, which timed the encoding too.
            let withEncoding = median(zip(zip(ours, encodings), raw).map { ($0.0 + $0.1) / $1 })
            print(
                String(
                    format:
                        "N=%6d  firewall.allow batch %8.1f ms (in the daemon %8.1f ms)   raw libnftables %8.1f ms   ratio %5.2fx   dry run %7.1f ms   floor %5.2fx   one more %6.2f ms   list %6.2f ms   status %6.2f ms   status with entries %7.1f ms",
                    size, o * 1000, d * 1000, r * 1000, ratio, median(dry) * 1000, floor, oneMs, listMs, statusMs,
                    entriesMs))
            print(
                String(
                    format:
                        "          request encoding in the client %6.1f ms (before the clock)   ratio with it %5.2fx",
                    median(encodings) * 1000, withEncoding))
            // The daemon's own kernel step, without the pipeline: what the path adds over it.
            print(
                String(
                    format:
                        "          raw nfnetlink (the daemon's kernel step alone) %7.1f ms   libnftables / nfnetlink %5.2fx   daemon / nfnetlink %5.2fx",
                    median(rawNetlink) * 1000, median(zip(raw, rawNetlink).map { $0 / $1 }),
                    median(zip(ours, rawNetlink).map { $0 / $1 })))
            print(
                String(
                    format:
                        "          firewall.remove of the batch %8.1f ms   raw delete %8.1f ms   ratio %5.2fx   raw nfnetlink delete %7.1f ms",
                    median(removals) * 1000, median(rawDeletes) * 1000,
                    median(zip(removals, rawDeletes).map { $0 / $1 }), median(rawNetlinkDeletes) * 1000))
            if offset == sizes.count - 1 {
                // A crash with the table present: the next start checks the entry sets whole.
                kill(daemon, SIGKILL)
                while ChildProcess.isRunning(daemon) { usleep(5000) }
                let k0 = Date()
                daemon = try startDaemon(binary: binary, work: work)
                let checked = Date().timeIntervalSince(k0)
                let checkedFirewall = try firewallServed(work: work, since: k0)
                print(
                    String(
                        format:
                            "restart after SIGKILL (table present, entry sets checked against the store): socket ready %.3f s (goal <= 1 s), first firewall call answered %.3f s",
                        checked, checkedFirewall))
                // "Reboot": the kernel loses the table; the daemon restarts and restores it.
                _ = try nft.run(#"{"nftables":[{"delete":{"table":{"family":"inet","name":"aios_firewall"}}}]}"#)
                ChildProcess.stop(daemon)
                let t0 = Date()
                daemon = try startDaemon(binary: binary, work: work)
                let restored = Date().timeIntervalSince(t0)
                let restoredFirewall = try firewallServed(work: work, since: t0)
                let count = try elementCount(nft)
                print(
                    String(
                        format:
                            "restore after reboot: %d elements back; socket ready %.3f s, first firewall call answered (table restored) %.3f s",
                        count, restored, restoredFirewall))
            } else {
                _ = try client.send(
                    "call", try JSONValue(encoding: CallParams(tool: "firewall.remove", input: ["ids": .array(ids)])))
            }
        }
        _ = try? nft.run(
            #"{"nftables":[{"add":{"table":{"family":"inet","name":"aios_firewall"}}},{"delete":{"table":{"family":"inet","name":"aios_firewall"}}}]}"#
        )
    }

    /// Seconds from `start` until a firewall call is answered (it waits for the start's restore).
    static func firewallServed(work: String, since start: Date) throws -> Double {
        _ = try ControlClient(socketPath: "\(work)/control.sock").send(
            "call", try JSONValue(encoding: CallParams(tool: "firewall.status", input: [:])))
        return Date().timeIntervalSince(start)
    }

    static func startDaemon(binary: String, work: String) throws -> Int32 {
        let process = try ChildProcess.spawn(
            ChildSpec(
                executable: binary,
                arguments: [
                    "daemon", "--goals-dir", "off", "--data-dir", "\(work)/data", "--socket", "\(work)/control.sock",
                    "--log-level", "error",
                    "--dns-listen", "off",
                ],
                environment: ProcessInfo.processInfo.environment.filter {
                    $0.key == "PATH" || $0.key.hasPrefix("GLIBC_")
                },
                logPath: "\(work)/daemon.log"))
        let client = ControlClient(socketPath: "\(work)/control.sock")
        let deadline = Date().addingTimeInterval(60)
        while (try? client.send("status")) == nil, Date() < deadline { usleep(5000) }
        return process
    }

    /// The seconds the raw transactions took: through libnftables (the issue's baseline) and as
    /// the same nfnetlink messages the daemon sends (its own kernel step, without the pipeline).
    struct Raw {
        var add: Double
        var delete: Double
        var netlinkAdd: Double
        var netlinkDelete: Double
    }

    /// The same N elements as one transaction into a scratch table with the same set type (one
    /// source host and one port: the exact `saddr . l4proto . th dport` hash set), and their
    /// deletion as one transaction, through libnftables and then over nfnetlink; each document or
    /// batch is made before its clock starts.
    static func rawTransaction(_ nft: Nftables, _ connection: NftablesConnection, size: Int) throws -> Raw {
        var elements: [String] = []
        var values: [String] = []
        elements.reserveCapacity(size)
        values.reserveCapacity(size)
        for index in 0..<size {
            let source = "10.\((index >> 16) & 255).\((index >> 8) & 255).\(index & 255)"
            elements.append(#"{"elem":{"val":{"concat":["\#(source)",6,8080]},"timeout":3600}}"#)
            values.append(#"{"concat":["\#(source)",6,8080]}"#)
        }
        let setup =
            #"{"nftables":[{"add":{"table":{"family":"inet","name":"bench_raw"}}},{"add":{"set":{"family":"inet","table":"bench_raw","name":"s","type":["ipv4_addr","inet_proto","inet_service"],"flags":["timeout"]}}}]}"#
        _ = try nft.run(setup)
        let document =
            #"{"nftables":[{"add":{"element":{"family":"inet","table":"bench_raw","name":"s","elem":["#
            + elements.joined(separator: ",") + "]}}}]}"
        let t0 = Date()
        _ = try nft.run(document)
        let added = Date().timeIntervalSince(t0)
        let deletion =
            #"{"nftables":[{"delete":{"element":{"family":"inet","table":"bench_raw","name":"s","elem":["#
            + values.joined(separator: ",") + "]}}}]}"
        let t1 = Date()
        _ = try nft.run(deletion)
        let deleted = Date().timeIntervalSince(t1)
        var list = NftablesElementList()
        list.reserveCapacity(elements: size, keyBytes: 12)
        for index in 0..<size {
            var key = NftablesKey()
            key.append(address: UInt128(10 << 24 | index & 0xff_ffff), width: 4)
            key.append(byte: 6)
            key.append(port: 8080)
            list.append(key: key, timeoutMs: 3_600_000)
        }
        var adding = NftablesElementTransaction(family: .inet, table: "bench_raw")
        adding.add(list, to: "s")
        var deleting = NftablesElementTransaction(family: .inet, table: "bench_raw")
        deleting.delete(list, from: "s")
        let t2 = Date()
        try connection.commit(adding)
        let netlinkAdded = Date().timeIntervalSince(t2)
        let t3 = Date()
        try connection.commit(deleting)
        let netlinkDeleted = Date().timeIntervalSince(t3)
        _ = try nft.run(#"{"nftables":[{"delete":{"table":{"family":"inet","name":"bench_raw"}}}]}"#)
        return Raw(add: added, delete: deleted, netlinkAdd: netlinkAdded, netlinkDelete: netlinkDeleted)
    }

    /// Batches per size; the figures are their medians (the machine is shared and noisy).
    static let repetitions = 5

    /// Waits (up to 10 s) until `pid` uses no CPU for 100 ms, read from /proc/<pid>/stat.
    static func waitIdle(_ pid: Int32) {
        func cpuTicks() -> Int? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After the command name: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
            return user + system
        }
        let deadline = Date().addingTimeInterval(10)
        var last = cpuTicks()
        while Date() < deadline {
            usleep(100_000)
            let now = cpuTicks()
            if now == last { return }
            last = now
        }
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func elementCount(_ nft: Nftables) throws -> Int {
        let output = try nft.run(
            #"{"nftables":[{"list":{"set":{"family":"inet","table":"aios_firewall","name":"input_allow_v4_src"}}}]}"#)
        return output.components(separatedBy: "\"elem\"").count - 1
    }

    static func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = Date()
            try body()
            times.append(Date().timeIntervalSince(t0) * 1000)
        }
        return times.sorted()[runs / 2]
    }
}
