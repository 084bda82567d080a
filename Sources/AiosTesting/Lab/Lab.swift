import AiosLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A lab of network namespaces for one test: unique names (prefix, test-process PID, counter),
/// veths and bridges made with `ip`, helper processes started and killed **by PID**, and a
/// teardown that always runs and fails the test if a namespace or process leaked.
///
/// ```
/// try await Lab.with("routes") { lab in
///     let ns = try lab.namespace("client")          // aios-<pid>-<n>-client
///     try lab.ip(ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
///     let daemon = try lab.spawn(["ip", "netns", "exec", ns, binary, "daemon", …])
/// }
/// ```
public final class Lab: Sendable {
    private struct State {
        var namespaces: [String] = []
        var pids: [Int32] = []
        var directories: [String] = []
    }

    private static let counter = Atomic<Int>(0)
    private let state = Mutex(State())
    /// A scratch directory for this lab (removed at teardown).
    public let directory: String

    /// Creates a lab.
    /// - Throws: `LabError.notRoot` (with how to run the tests) when not root.
    public init() throws {
        try RootRequirement.check()
        directory = try Self.makeDirectory()
        state.withLock { $0.directories.append(directory) }
    }

    /// Runs `body` with a fresh lab and always tears it down.
    /// - Throws: `body`'s error, or `LabError.leaked` when teardown finds leftovers.
    public static func with<T>(_ body: (Lab) async throws -> T) async throws -> T {
        let lab = try Lab()
        let result: Result<T, any Error>
        do {
            result = .success(try await body(lab))
        } catch {
            result = .failure(error)
        }
        let leaks = lab.tearDown()
        let value = try result.get()
        if !leaks.isEmpty { throw LabError.leaked(leaks) }
        return value
    }

    /// Creates a namespace named `aios-<pid>-<n>-<role>` with loopback up.
    public func namespace(_ role: String) throws -> String {
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        let name = "aios-\(getpid())-\(number)-\(role)"
        try Shell.check(["ip", "netns", "add", name])
        state.withLock { $0.namespaces.append(name) }
        try Shell.check(["ip", "-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// Runs `ip -n NS …`.
    public func ip(_ namespace: String, _ arguments: String...) throws {
        try Shell.check(["ip", "-n", namespace] + arguments)
    }

    /// Starts a helper process, recording its PID for teardown. Output goes to files in the lab
    /// directory (`<name>.out`, `<name>.err`).
    ///
    /// Started with fork/exec (not Foundation's `Process`, which takes a child that closes its
    /// inherited descriptors — dnsmasq does — for one that exited, and then blocks).
    @discardableResult
    public func spawn(_ arguments: [String], name: String, environment: [String: String]? = nil) throws -> LabProcess {
        let out = "\(directory)/\(name).out"
        let err = "\(directory)/\(name).err"
        let pid = try ChildProcess.spawn(
            ChildSpec(
                executable: try Shell.resolve(arguments[0]), arguments: Array(arguments.dropFirst()),
                environment: environment ?? ProcessInfo.processInfo.environment, logPath: out, errorPath: err))
        state.withLock { $0.pids.append(pid) }
        return LabProcess(pid: pid, stdoutPath: out, stderrPath: err)
    }

    /// Sends `signal` to a process this lab started and waits (up to 10 s) for it to exit.
    /// - Returns: true when it exited.
    @discardableResult
    public func stop(_ process: LabProcess, signal: Int32 = 15) -> Bool {
        kill(process.pid, signal)
        let exited = Poll.until(seconds: 10) { !Self.alive(process.pid) }
        if exited { state.withLock { $0.pids.removeAll { $0 == process.pid } } }
        return exited
    }

    /// Removes everything this lab made; returns what could not be removed.
    public func tearDown() -> [String] {
        let current = state.withLock { state in
            defer { state = State() }
            return state
        }
        var leaks: [String] = []
        for pid in current.pids where Self.alive(pid) {
            kill(pid, SIGTERM)
            if !Poll.until(seconds: 5, { !Self.alive(pid) }) {
                kill(pid, SIGKILL)
                if !Poll.until(seconds: 5, { !Self.alive(pid) }) { leaks.append("process \(pid)") }
            }
        }
        // Helpers the daemon started inside a lab namespace (unbound, dhcpcd, wireguard-go) are found
        // by the namespace they live in and killed by PID, so a namespace never outlives its test.
        let strays = Self.processes(inNamespaces: current.namespaces)
        for pid in strays where Self.alive(pid) { kill(pid, SIGTERM) }
        for pid in strays where !Poll.until(seconds: 5, { !Self.alive(pid) }) {
            kill(pid, SIGKILL)
            if !Poll.until(seconds: 5, { !Self.alive(pid) }) { leaks.append("process \(pid) in a lab namespace") }
        }
        for name in current.namespaces.reversed() {
            _ = try? Shell.run(["ip", "netns", "del", name])
        }
        let remaining = (try? Shell.run(["ip", "netns", "list"]))?.stdout ?? ""
        for name in current.namespaces
        where remaining.split(separator: "\n").contains(where: { $0.hasPrefix(name + " ") || $0 == name }) {
            leaks.append("namespace \(name)")
        }
        for path in current.directories { try? FileManager.default.removeItem(atPath: path) }
        return leaks
    }

    /// PIDs of processes whose network namespace is one of `names` (`/run/netns/NAME`).
    public static func processes(inNamespaces names: [String]) -> [Int32] {
        let inodes = Set(
            names.compactMap { name -> UInt64? in
                var info = stat()
                return stat("/run/netns/\(name)", &info) == 0 ? UInt64(info.st_ino) : nil
            })
        guard !inodes.isEmpty else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            var info = stat()
            return pid != getpid() && stat("/proc/\(pid)/ns/net", &info) == 0 && inodes.contains(UInt64(info.st_ino))
        }
    }

    /// True while `pid` exists and is not a zombie.
    public static func alive(_ pid: Int32) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    private static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "aios-lab-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }
}

/// A process a lab started.
public struct LabProcess: Sendable {
    /// Its PID (what it is killed by).
    public var pid: Int32
    /// Where its standard output goes.
    public var stdoutPath: String
    /// Where its standard error goes.
    public var stderrPath: String

    /// Its standard error so far.
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    /// Its standard output so far.
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
}

/// Why a lab failed.
public enum LabError: Error, CustomStringConvertible {
    /// Not running as root.
    case notRoot
    /// Teardown found leftovers.
    case leaked([String])
    /// A command failed.
    case command([String], Int32, String)

    public var description: String {
        switch self {
        case .notRoot: RootRequirement.message
        case .leaked(let items): "the test leaked: \(items.joined(separator: ", "))"
        case .command(let arguments, let status, let stderr):
            "`\(arguments.joined(separator: " "))` exited \(status): \(stderr)"
        }
    }
}

/// Integration tests need root (namespaces, nftables) and fail, never skip, without it.
public enum RootRequirement {
    /// What to do.
    public static let message =
        "integration tests need root (network namespaces, netlink, nftables): run them as root, e.g. `sudo swift test` or `sudo Tools/test`; they never skip"

    /// Throws `LabError.notRoot` unless root.
    public static func check() throws {
        guard getuid() == 0 else { throw LabError.notRoot }
    }
}
