import AiosLinux
import AiosStore
import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One namespace, one real daemon (`--lab-tools`), the CLI as a separate process:
///
/// ```
///   aios-net CLI ── control socket ──▶ aios-net daemon (netns client, data dir in the lab)
///                                       └─ lab.flag_set / lab.flag_check act on <data>/lab-flag
/// ```
@Suite("the pipeline in a real daemon process", .serialized)
struct PipelineProcessTests {
    @Test(
        "bad input to call exits 65, names the field, is audited, and changes nothing",
        arguments: [
            (#"{"value": 5}"#, "input.value"), (#"{"value": "B", "colour": 1}"#, "input.colour"), ("{}", "input.value"),
            ("{value: B", "input"),
        ])
    func badInput(input: String, field: String) async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let result = try daemon.cli(["call", "lab.flag_set", input, "--yes"])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains(field), "\(result.stderr)")
            let (json, value) = try daemon.json(["call", "lab.flag_set", input, "--yes"])
            #expect(json.status == 65)
            let error = (value as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "invalid_input")
            #expect((error?["location"] as? [String: Any])?["field"] as? String == field)
            let rejections = try daemon.events(["--tool", "lab.flag_set"])
            #expect(rejections.count == 2)
            #expect(rejections.allSatisfy { $0["error_code"] as? String == "invalid_input" })
            #expect(daemon.labFlag == "")
            #expect(try daemon.events().allSatisfy { ($0["kind"] as? String)?.hasPrefix("guard") != true })
            _ = daemon.stop()
        }
    }

    @Test("a policy that denies a tool refuses it with the reason; a malformed reload keeps the old policy")
    func policyDenyAndReload() async throws {
        try await Lab.with { lab in
            let policy = "\(lab.directory)/policy.yaml"
            try """
            version: 1
            default: deny
            rules:
              - origins: [user]
                tools: [net.routes]
                decision: deny
                reason: routes are private on this host
              - origins: [user]
                effects: [read]
                decision: allow
            """.write(toFile: policy, atomically: true, encoding: .utf8)
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"), policy: policy)
            try daemon.start()
            let denied = try daemon.cli(["call", "net.routes"])
            #expect(denied.status == 77)
            #expect(denied.stderr.contains("routes are private on this host"))
            let row = try #require(try daemon.events(["--tool", "net.routes"]).first)
            #expect(row["decision"] as? String == "deny")
            #expect(row["reason"] as? String == "routes are private on this host")

            try "version: 1\nrules:\n  - origins: [user]\n    decision: allow\n    effects: [read, bogus]\n"
                .write(toFile: policy, atomically: true, encoding: .utf8)
            let reload = try daemon.cli(["policy", "reload"])
            #expect(reload.status == 65)
            #expect(reload.stderr.contains("\(policy):5"), "\(reload.stderr)")
            #expect(reload.stderr.contains("previous policy stays in force"))
            #expect(try daemon.cli(["call", "net.routes"]).status == 77)
            #expect(try daemon.cli(["call", "net.interfaces"]).status == 0)
            #expect(try daemon.events().contains { $0["kind"] as? String == "policy.rejected" })
            _ = daemon.stop()
        }
    }

    @Test("a disruptive change whose probe fails is rolled back; a passing probe keeps it")
    func guardProbe() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let kept = try daemon.cli([
                "call", "lab.flag_set", #"{"value": "A"}"#, "--yes", "--probe", "lab.flag_check", "--probe-input",
                #"{"expect": "A"}"#,
            ])
            #expect(kept.status == 0, "\(kept.stderr)")
            #expect(daemon.labFlag == "A")
            let cut = try daemon.cli([
                "call", "lab.flag_set", #"{"value": "B"}"#, "--yes", "--probe", "lab.flag_check", "--probe-input",
                #"{"expect": "never"}"#, "--window", "1s",
            ])
            #expect(cut.status == 1)
            #expect(cut.stderr.contains("rolled back"), "\(cut.stderr)")
            #expect(daemon.labFlag == "A")
            let kinds = try daemon.events().compactMap { $0["kind"] as? String }
            #expect(kinds.contains("guard.rolled_back"))
            #expect(kinds.contains("guard.confirmed"))
            _ = daemon.stop()
        }
    }

    /// Whether `process` exits on its own within 15 s; if not, it is stopped.
    static func exited(_ process: LabProcess, in lab: Lab) -> Bool {
        let exited = Poll.until(seconds: 15) { !ChildProcess.isRunning(process.pid) }
        if !exited { _ = lab.stop(process) }
        return exited
    }

    @Test(
        "a second daemon on the same data directory refuses to start, naming the first; the first's open guard stays open"
    )
    func secondDaemonRefused() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            // A guarded change left waiting: a second daemon's start-up recovery would roll it back.
            let pending = try lab.spawn(
                [
                    daemon.binary, "call", "lab.flag_set", #"{"value": "B"}"#, "--yes", "--probe", "lab.flag_check",
                    "--probe-input", #"{"expect": "never"}"#, "--window", "10m", "--socket", daemon.socket,
                ], name: "pending-call")
            #expect(Poll.until(seconds: 15) { daemon.labFlag == "B" })
            // Spawned, not run to completion: a second daemon that did start would serve forever.
            let second = try lab.spawn(
                [
                    daemon.binary, "daemon", "--goals-dir", "off", "--data-dir", daemon.dataDirectory, "--socket",
                    "\(lab.directory)/second.sock", "--lab-tools", "--dns-listen", "off",
                ], name: "second-daemon")
            let exited = Self.exited(second, in: lab)
            #expect(exited, "the second daemon is still running")
            #expect(
                second.stderr.contains("another aios-net daemon is using the data directory \(daemon.dataDirectory)"),
                "\(second.stderr)")
            let holder = try String(contentsOfFile: "\(daemon.dataDirectory)/daemon.lock", encoding: .utf8)
            #expect(second.stderr.contains("pid \(holder.trimmingCharacters(in: .whitespacesAndNewlines))"))
            let guards = try daemon.json(["guard", "list"]).1 as? [[String: Any]] ?? []
            #expect(guards.contains { $0["state"] as? String == "pending" }, "\(guards)")
            #expect(daemon.labFlag == "B")
            #expect(lab.stop(pending))
            _ = daemon.stop()
        }
    }

    @Test(
        "a start waits for the lock of a daemon that is still exiting (its PID gone, its lock not yet dropped), then runs"
    )
    func waitsForExitingDaemon() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try FileManager.default.createDirectory(atPath: daemon.dataDirectory, withIntermediateDirectories: true)
            // The lock file names a process that is gone; another holds the lock a little longer,
            // as the last thread of a killed daemon does while its memory is freed.
            let gone = try lab.spawn(["true"], name: "gone")
            #expect(Poll.until(seconds: 10) { !ChildProcess.isRunning(gone.pid) })
            let lock = "\(daemon.dataDirectory)/daemon.lock"
            try "\(gone.pid)\n".write(toFile: lock, atomically: false, encoding: .utf8)
            let held = "\(lab.directory)/held"
            let holder = try lab.spawn(["flock", "-x", lock, "-c", "touch \(held); sleep 1"], name: "holder")
            #expect(Poll.until(seconds: 10) { FileManager.default.fileExists(atPath: held) })
            try daemon.start()
            #expect(!ChildProcess.isRunning(holder.pid), "the daemon started while the lock was held")
            #expect(daemon.process?.stderr.contains("is still exiting; waiting for its lock") == true)
            #expect(try daemon.cli(["tools"]).status == 0)
            _ = daemon.stop()
        }
    }

    @Test(
        "a daemon that stops on a start-up error (an unknown control group) says why and leaves no running marker, so its next start does not take it for a crash"
    )
    func startupErrorIsNoCrash() async throws {
        try await Lab.with { lab in
            let data = "\(lab.directory)/data-startup"
            let daemon = try lab.spawn(
                [
                    BuiltBinary.path(), "daemon", "--goals-dir", "off", "--data-dir", data, "--socket",
                    "\(lab.directory)/startup.sock",
                    "--control-group", "no-such-group-aios", "--dns-listen", "off",
                ], name: "startup-error")
            let exited = Self.exited(daemon, in: lab)
            #expect(exited)
            #expect(daemon.stderr.contains("no group named no-such-group-aios"), "\(daemon.stderr)")
            let store = try Store(dataDirectory: data)
            #expect(try await store.setting("daemon.running") == nil)
        }
    }

    @Test("SIGKILL of the daemon inside the guard window, then a restart: the change is rolled back")
    func guardSurvivesSIGKILL() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            #expect(
                try daemon.cli([
                    "call", "lab.flag_set", #"{"value": "A"}"#, "--yes", "--probe", "lab.flag_check", "--probe-input",
                    #"{"expect": "A"}"#,
                ]).status == 0)
            // A guarded change whose probe keeps failing for a long window; the call blocks meanwhile.
            let pending = try lab.spawn(
                [
                    daemon.binary, "call", "lab.flag_set", #"{"value": "B"}"#, "--yes", "--probe", "lab.flag_check",
                    "--probe-input",
                    #"{"expect": "never"}"#, "--window", "10m", "--socket", daemon.socket,
                ], name: "pending-call")
            #expect(Poll.until(seconds: 15) { daemon.labFlag == "B" })
            let killed = daemon.stop(signal: SIGKILL)
            #expect(killed)
            #expect(lab.stop(pending))
            #expect(daemon.labFlag == "B")

            try daemon.start()
            #expect(Poll.until(seconds: 15) { daemon.labFlag == "A" })
            let rollback = try #require(try daemon.events().first { $0["kind"] as? String == "guard.rolled_back" })
            #expect((rollback["reason"] as? String)?.contains("daemon stopped before the change was confirmed") == true)
            let guards = try daemon.json(["guard", "list"]).1 as? [[String: Any]] ?? []
            #expect(guards.contains { $0["state"] as? String == "rolled_back" })
            _ = daemon.stop()
        }
    }

    @Test("a guarded change without a probe waits for guard confirm; unconfirmed it rolls back at the deadline")
    func guardConfirmation() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let (first, value) = try daemon.json([
                "call", "lab.flag_set", #"{"value": "A"}"#, "--yes", "--window", "1m",
            ])
            #expect(first.status == 0)
            let id = try #require(((value as? [String: Any])?["guard"] as? [String: Any])?["id"] as? String)
            #expect(try daemon.cli(["guard", "confirm", id]).status == 0)
            #expect(
                try daemon.cli(["call", "lab.flag_set", #"{"value": "B"}"#, "--yes", "--window", "1s"]).status == 0)
            #expect(daemon.labFlag == "B")
            #expect(Poll.until(seconds: 15) { daemon.labFlag == "A" })
            _ = daemon.stop()
        }
    }

    @Test("a non-root peer on the control socket is refused clearly (setpriv --reuid 65534)")
    func nonRootRefused() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let result = try Shell.run([
                "setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", daemon.binary, "call",
                "net.interfaces",
                "--socket", daemon.socket,
            ])
            #expect(result.status == 77, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("permission denied"))
            #expect(result.stderr.contains("uid 65534"))
            #expect(try daemon.events(["--tool", "net.interfaces"]).isEmpty)
            _ = daemon.stop()
        }
    }

    @Test("planted secrets appear in no daemon log, audit event or CLI output")
    func secretScan() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let secret = "sk-live-\(UInt64.random(in: 1_000_000_000...9_999_999_999))"
            var outputs: [String] = []
            for arguments in [
                ["call", "lab.secret_use", #"{"label": "demo", "api_key": "\#(secret)"}"#],
                ["call", "lab.secret_use", #"{"label": "demo", "api_key": "\#(secret)"}"#, "--json"],
                ["call", "lab.secret_use", #"{"label": 3, "api_key": "\#(secret)"}"#],
                ["call", "lab.secret_use", #"{"label": "x", "api_key": "\#(secret)"}"#, "--dry-run", "--json"],
                ["events", "--json"], ["events"],
            ] {
                let result = try daemon.cli(arguments)
                outputs += [result.stdout, result.stderr]
            }
            let log = daemon.process?.stderr ?? ""
            #expect(log.contains("using key <redacted>"))
            for text in outputs + [log] { #expect(!text.contains(secret)) }
            #expect(outputs.joined().contains("key_length"))
            _ = daemon.stop()
            let database = try Data(contentsOf: URL(fileURLWithPath: "\(daemon.dataDirectory)/aios-net.sqlite"))
            #expect(database.range(of: Data(secret.utf8)) == nil)
        }
    }

    @Test("SIGTERM stops the daemon gracefully; READY=1 reaches NOTIFY_SOCKET")
    func lifecycle() async throws {
        try await Lab.with { lab in
            let notify = try NotifyListener(path: "\(lab.directory)/notify.sock")
            defer { notify.close() }
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notify.path
            try daemon.start(environment: environment)
            #expect(notify.receive(seconds: 10)?.contains("READY=1") == true)
            let stopped = daemon.stop()
            #expect(stopped)
            #expect(!FileManager.default.fileExists(atPath: daemon.socket))
            let restarted = try Shell.run([daemon.binary, "events", "--socket", daemon.socket])
            #expect(restarted.status == 69)
        }
    }
}

/// A unix datagram socket standing in for systemd's notify socket.
final class NotifyListener: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard status == 0 else { throw LabError.command(["bind", path], errno, "cannot bind notify socket") }
    }

    func receive(seconds: Int) -> String? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}
