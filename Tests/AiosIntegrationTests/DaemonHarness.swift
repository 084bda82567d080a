import AiosTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `aios-net daemon` process inside a lab namespace, and the CLI pointed at it.
///
/// ```
///   test process ── unix socket (by path: sockets are not netns-bound) ──▶ aios-net daemon
///                                                                          └─ runs in netns <ns>
/// ```
struct DaemonHarness {
    let lab: Lab
    let namespace: String
    let dataDirectory: String
    let socket: String
    let binary: String
    var policy: String?
    /// More daemon flags (`--dns-upstream …`).
    var extraArguments: [String] = []
    /// The goals directory the daemon watches (never the host's /etc/aios-net/goals.d).
    let goalsDirectory: String
    private(set) var process: LabProcess?

    init(lab: Lab, namespace: String, policy: String? = nil) throws {
        self.lab = lab
        self.namespace = namespace
        dataDirectory = "\(lab.directory)/data-\(namespace)"
        goalsDirectory = "\(lab.directory)/goals-\(namespace)"
        socket = "\(lab.directory)/\(namespace).sock"
        self.policy = policy
        // A copy in the lab directory (mode 0755) so an unprivileged user can run it too.
        binary = "\(lab.directory)/aios-net"
        if !FileManager.default.fileExists(atPath: binary) {
            try FileManager.default.copyItem(atPath: BuiltBinary.path(), toPath: binary)
        }
    }

    /// Starts the daemon and waits until its socket answers.
    mutating func start(environment: [String: String]? = nil) throws {
        var arguments = [
            "ip", "netns", "exec", namespace, binary, "daemon", "--data-dir", dataDirectory, "--socket", socket,
            "--lab-tools", "--goals-dir", goalsDirectory,
        ]
        if let policy { arguments += ["--policy", policy] }
        arguments += extraArguments
        let started = try lab.spawn(
            arguments, name: "daemon-\(namespace)-\(UUID().uuidString.prefix(4))", environment: environment)
        process = started
        let ready = Poll.until(seconds: 20) { (try? cli(["tools"]).status) == 0 || !Lab.alive(started.pid) }
        guard ready, Lab.alive(started.pid) else {
            throw LabError.command(arguments, -1, "daemon did not become ready: \(started.stderr)")
        }
    }

    /// Stops the daemon with `signal` (SIGTERM by default) and waits for it to exit.
    mutating func stop(signal: Int32 = SIGTERM) -> Bool {
        guard let process else { return true }
        self.process = nil
        return lab.stop(process, signal: signal)
    }

    /// Runs the CLI against this daemon.
    func cli(_ arguments: [String], stdin: String? = nil) throws -> Shell.Result {
        try Shell.run([binary] + arguments + ["--socket", socket], stdin: stdin)
    }

    /// Runs the CLI with `--json` and parses its standard output.
    func json(_ arguments: [String]) throws -> (Shell.Result, Any?) {
        let result = try cli(arguments + ["--json"])
        return (result, try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)))
    }

    /// The audit trail as dictionaries, newest first.
    func events(_ extra: [String] = []) throws -> [[String: Any]] {
        let (result, value) = try json(["events", "--limit", "500"] + extra)
        guard result.status == 0 else { throw LabError.command(["events"], result.status, result.stderr) }
        return value as? [[String: Any]] ?? []
    }

    /// The lab flag's value (the `lab.*` tools' stand-in for network state).
    var labFlag: String { (try? String(contentsOfFile: "\(dataDirectory)/lab-flag", encoding: .utf8)) ?? "" }
}
