import AiosTesting
import Foundation
import Testing

/// The control socket under load it must not give in to: a flood of refused peers, more
/// connections than the caps, an oversized request. One namespace with the daemon; the peers run
/// in the test's own namespace (a unix socket is reached by path).
@Suite("the control socket cannot be used to exhaust the daemon", .serialized)
struct ControlSocketLimitTests {
    /// Opens `count` connections to `path`, each sending half a request and none finishing,
    /// holding up to `hold` at once; prints `held N opened M` while holding the last batch, and
    /// ends once the file `path.release` exists (or after two minutes).
    static let trickle = """
        import os, socket, sys, time
        path, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        held, opened = [], 0
        for i in range(count):
            try:
                s = socket.socket(socket.AF_UNIX); s.connect(path); opened += 1; held.append(s)
                s.send(b'{"meth')
            except OSError:
                pass
            if len(held) >= hold and i < count - 1:
                for h in held: h.close()
                held = []
        print("held", len(held), "opened", opened, flush=True)
        deadline = time.time() + 120
        while not os.path.exists(path + ".release") and time.time() < deadline:
            time.sleep(0.05)
        """

    /// The daemon's thread count, from /proc.
    static func threads(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        return Int(line?.split(separator: "\t").last ?? "") ?? -1
    }

    @Test("3,000 trickling connections from uid 65534 hold no threads and log a few lines, not thousands")
    func refusedFlood() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let pid = try #require(daemon.process?.pid)
            let before = Self.threads(pid)
            let flood = try lab.spawn(
                [
                    "setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "/usr/bin/python3", "-c",
                    Self.trickle,
                    daemon.socket, "3000", "300",
                ], name: "flood")
            #expect(Poll.until(seconds: 60) { flood.stdout.contains("held") }, "\(flood.stderr)")
            #expect(flood.stdout.contains("opened 3000"), "\(flood.stdout) \(flood.stderr)")
            // 300 refused connections still open on the peer's side: none holds a daemon thread.
            #expect(Self.threads(pid) <= before + 4, "threads \(before) → \(Self.threads(pid))")
            let refusals =
                (daemon.process?.stderr ?? "").components(separatedBy: "refused control connection").count - 1
            #expect((1...10).contains(refusals), "\(refusals) refusal lines")
            #expect(try daemon.cli(["tools"]).status == 0, "root is still served")
            _ = FileManager.default.createFile(atPath: daemon.socket + ".release", contents: nil)
            _ = lab.stop(flood)
            _ = daemon.stop()
        }
    }

    @Test("past 16 connections of one user the next is refused with a clear reason; closing them frees the slots")
    func perUserCap() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let holders = try lab.spawn(["python3", "-c", Self.trickle, daemon.socket, "16", "16"], name: "holders")
            #expect(Poll.until(seconds: 20) { holders.stdout.contains("held 16") }, "\(holders.stderr)")
            let refused = try daemon.cli(["tools"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("too many control connections"), "\(refused.stderr)")
            _ = FileManager.default.createFile(atPath: daemon.socket + ".release", contents: nil)
            _ = lab.stop(holders)
            #expect(Poll.until(seconds: 10) { (try? daemon.cli(["tools"]).status) == 0 })
            _ = daemon.stop()
        }
    }

    @Test("a request over 16 MiB is refused as invalid input (65), before it is sent")
    func oversized() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let big = #"{"value": ""# + String(repeating: "x", count: 17 << 20) + #""}"#
            let result = try daemon.cli(["call", "lab.flag_set", "-"], stdin: big)
            #expect(result.status == 65, "\(result.stderr.prefix(300))")
            #expect(result.stderr.contains("16 MiB"))
            _ = daemon.stop()
        }
    }
}
