internal import CSystem
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How to start a helper program (unbound, dhcpcd, wireguard-go).
public struct ChildSpec: Sendable, Hashable {
    /// Absolute path of the program.
    public var executable: String
    /// Arguments after the program name.
    public var arguments: [String]
    /// The whole environment of the child (nothing is inherited).
    public var environment: [String: String]
    /// File that receives standard output, and standard error unless `errorPath` is set
    /// (appended, created 0600).
    public var logPath: String?
    /// A separate file for standard error.
    public var errorPath: String?
    /// Directories to create under a private tmpfs on /run (a private mount namespace): for
    /// programs whose pid, socket and lease files would otherwise collide across network namespaces.
    public var privateRun: [String]?
    /// A bind mount made inside that private mount namespace (source, target).
    public var bind: [String]?

    /// Creates a spec.
    public init(
        executable: String, arguments: [String],
        environment: [String: String] = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
        logPath: String? = nil, errorPath: String? = nil, privateRun: [String]? = nil, bind: [String]? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = logPath
        self.errorPath = errorPath
        self.privateRun = privateRun
        self.bind = bind
    }

    /// The command line, for logs and the store.
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}

/// Helper processes by PID: start (own process group, optional private /run), check, stop, and
/// wait for exit — of children and of processes adopted after a daemon restart alike.
public enum ChildProcess {
    /// Starts `spec`.
    /// - Returns: the PID.
    /// - Throws: `SystemCallError` when the program or log file cannot be opened or fork fails.
    public static func spawn(_ spec: ChildSpec) throws(SystemCallError) -> Int32 {
        guard access(spec.executable, X_OK) == 0 else { throw SystemCallError("exec \(spec.executable)", errno: errno) }
        let logFD = try openLog(spec.logPath)
        defer { if logFD >= 0 { close(logFD) } }
        let errorFD = spec.errorPath == nil ? logFD : try openLog(spec.errorPath)
        defer { if errorFD >= 0 && errorFD != logFD { close(errorFD) } }
        let argv = CStrings([spec.executable] + spec.arguments)
        let envp = CStrings(spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        let dirs = CStrings(spec.privateRun ?? [])
        let pid = spec.bind.map { $0 } ?? []
        let result: pid_t = argv.withPointers { argvPointer in
            envp.withPointers { envPointer in
                dirs.withPointers { dirPointer in
                    aios_spawn(
                        spec.executable, argvPointer, envPointer, logFD, errorFD, spec.privateRun == nil ? 0 : 1,
                        dirPointer, pid.count == 2 ? pid[0] : nil, pid.count == 2 ? pid[1] : nil)
                }
            }
        }
        if result < 0 { throw SystemCallError("fork for \(spec.executable)", errno: -result) }
        return result
    }

    /// Starts `spec` (its `privateRun` honoured, `bind` not) with `descriptors`
    /// handed over as 3, 4, … and `LISTEN_FDS`/`LISTEN_PID` set, as systemd's socket activation
    /// does: a server built for it (unbound with `use-systemd`) serves on them instead of binding
    /// its own. Two processes handed the same socket read one queue, so one can take over from
    /// the other without a packet lost.
    /// - Returns: the PID.
    public static func spawn(_ spec: ChildSpec, passing descriptors: [Int32]) throws(SystemCallError) -> Int32 {
        guard access(spec.executable, X_OK) == 0 else { throw SystemCallError("exec \(spec.executable)", errno: errno) }
        let logFD = try openLog(spec.logPath)
        defer { if logFD >= 0 { close(logFD) } }
        var environment = spec.environment
        environment["LISTEN_FDS"] = "\(descriptors.count)"
        environment["LISTEN_PID"] = String(repeating: "0", count: 10)
        let names = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let slot = names.firstIndex { $0.hasPrefix("LISTEN_PID=") }!
        let argv = CStrings([spec.executable] + spec.arguments)
        let envp = CStrings(names)
        let dirs = CStrings(spec.privateRun ?? [])
        let result: pid_t = argv.withPointers { argvPointer in
            envp.withPointers { envPointer in
                dirs.withPointers { dirPointer in
                    descriptors.withUnsafeBufferPointer { fds in
                        aios_spawn_passing(
                            spec.executable, argvPointer, envPointer, logFD, logFD, fds.baseAddress, Int32(fds.count),
                            envPointer[slot]! + 11, spec.privateRun == nil ? 0 : 1, dirPointer)
                    }
                }
            }
        }
        if result < 0 { throw SystemCallError("fork for \(spec.executable)", errno: -result) }
        return result
    }

    /// A log file opened for appending (0600), or -1 for none.
    private static func openLog(_ path: String?) throws(SystemCallError) -> Int32 {
        guard let path else { return -1 }
        return try SystemCall.check("open \(path)") { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) }
    }

    /// The process's start time in clock ticks since boot (`/proc/PID/stat` field 22): with the
    /// PID it names one process for good, so a recycled PID is never mistaken for ours.
    public static func startTicks(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so start time (22) is index 19.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// True while `pid` runs (not a zombie) and, when given, still has `startTicks`.
    public static func isRunning(_ pid: Int32, startTicks expected: UInt64? = nil) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        else { return false }
        if stat.contains(") Z ") {
            // It exited after the first look: reap it now when it is ours, or it stays a zombie.
            _ = waitpid(pid, &status, WNOHANG)
            return false
        }
        if let expected { return startTicks(pid) == expected }
        return true
    }

    /// Waits (on a thread of its own) until `pid` exits; reaps it when it is our child. Returns
    /// early, with nil, when the calling task is cancelled.
    /// - Returns: the exit status when known (children only).
    public static func waitForExit(_ pid: Int32) async -> Int32? {
        let cancelled = CancelFlag()
        return await withTaskCancellationHandler {
            (try? await Offload.run { () -> Int32? in
                let fd = aios_pidfd_open(pid)
                defer { if fd >= 0 { close(fd) } }
                while !cancelled.isSet {
                    if fd >= 0 {
                        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                        if poll(&descriptor, 1, 100) > 0 { break }
                    } else {
                        if !isRunning(pid) { break }
                        usleep(100_000)
                    }
                }
                if cancelled.isSet { return nil }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { return status }
                return nil
            }) ?? nil
        } onCancel: {
            cancelled.set()
        }
    }

    /// Stops `pid`: SIGTERM, then after `grace` seconds SIGKILL to its whole process group.
    /// - Returns: true when it is gone.
    @discardableResult
    public static func stop(_ pid: Int32, grace: Double = 5) -> Bool {
        guard isRunning(pid) else { return true }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if !isRunning(pid) { return true }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        let last = Date().addingTimeInterval(2)
        while Date() < last {
            if !isRunning(pid) { return true }
            usleep(20_000)
        }
        return false
    }
}

/// Set once from a cancellation handler, read by a waiting thread.
private final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// A NULL-terminated `char *[]` for exec, kept alive for the call.
private struct CStrings {
    let strings: [String]
    init(_ strings: [String]) { self.strings = strings }

    func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
