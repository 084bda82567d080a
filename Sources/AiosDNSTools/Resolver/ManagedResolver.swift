import AiosCore
import AiosLinux
import AiosStore
import AiosUnbound
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The unbound process aios-net owns: its config file, its PID (persisted, so a daemon restart
/// adopts it instead of starting another), and its control socket. Calls are serialised.
actor ManagedResolver {
    let paths: DNSPaths
    let helpers: HelperSupervisor
    let executable: String
    /// The CA bundle DoT upstreams are verified against (nil: the system's).
    let caBundle: String?
    private var process: HelperProcess?
    /// The listening sockets every unbound this daemon starts serves on (handed over as systemd
    /// would), so a replacement serves the same sockets the old one did; nil for an adopted
    /// process (it bound its own) until the next start.
    private var sockets: ListeningSockets?

    static let helperName = "unbound"

    init(paths: DNSPaths, store: Store, executable: String, caBundle: String? = nil) {
        self.caBundle = caBundle
        self.paths = paths
        self.helpers = HelperSupervisor(ledger: store, nowMs: { SystemClock().nowMs() })
        self.executable = executable
    }

    /// The control client.
    nonisolated var control: UnboundControl { UnboundControl(socketPath: paths.control) }

    /// The running process, if any.
    var running: HelperProcess? { process.flatMap { $0.isRunning ? $0 : nil } }

    /// The running process's PID, if any.
    var runningPID: Int32? { running?.pid }

    /// Makes sure unbound runs `settings`: writes the config, adopts the recorded process when it
    /// is alive and was started with the same config, otherwise (re)starts it and waits until its
    /// control socket answers.
    /// - Returns: `running`, `adopted`, `started` or `restarted`.
    /// - Throws: `AiosError.unavailable` when unbound is missing or does not come up (with its log).
    @discardableResult
    func ensureRunning(_ settings: DNSSettings) async throws -> String {
        let config = try prepare(settings)
        let fingerprint = Self.fingerprint(config)
        if let current = running {
            if await helpers.adopt(Self.helperName)?.record.fingerprint == fingerprint { return "running" }
            await helpers.stop(current)
            try await start(settings, fingerprint: fingerprint)
            return "restarted"
        }
        if let (found, record) = await helpers.adopt(Self.helperName) {
            if record.fingerprint == fingerprint {
                process = found
                return "adopted"
            }
            await helpers.stop(found)
        }
        try await start(settings, fingerprint: fingerprint)
        return "started"
    }

    /// Stops unbound and starts it again with `settings` (cache lost: only for changes unbound
    /// cannot take at run time, such as the listen address).
    func restart(_ settings: DNSSettings) async throws {
        let config = try prepare(settings)
        if let current = running { await helpers.stop(current) }
        process = nil
        try await start(settings, fingerprint: Self.fingerprint(config))
    }

    /// Rewrites the config for `settings` without restarting (runtime changes made the same
    /// change already), recording its fingerprint so the running process counts as current.
    func rewriteConfig(_ settings: DNSSettings) async throws {
        let config = try prepare(settings)
        try await helpers.updateFingerprint(Self.helperName, to: Self.fingerprint(config))
    }

    /// Replaces the running unbound by a new one that reads the files as they are now (a big
    /// blocklist change whose batches would take longer than a start), with no gap in answers:
    /// the new process binds the same address beside the old one (unbound sets SO_REUSEPORT, so
    /// the kernel hands queries to both), takes the control socket's path over (unbound unlinks
    /// and binds it at start, and the old one leaves it at exit), and once it answers there the
    /// old one is stopped. Without a running unbound it starts one. The cache goes with it
    /// (`dump_cache` from the old, `load_cache` into the new): names stay answered from cache.
    /// - Throws: `AiosError.unavailable` when the new process does not come up (the old one
    ///   then keeps serving).
    /// - Returns: false, changing nothing, when the running process was adopted (it serves
    ///   sockets of its own, which a second one could only share by SO_REUSEPORT, and queries the
    ///   kernel hands a process still loading its zones wait for seconds): batches it is then.
    func replace(_ settings: DNSSettings) async throws -> Bool {
        let config = try prepare(settings)
        guard let old = running else {
            try await start(settings, fingerprint: Self.fingerprint(config))
            return true
        }
        guard let sockets, sockets.address == settings.listenAddress, sockets.port == settings.port else {
            return false
        }
        // The dump ends with its own `EOF` line, which is what load_cache reads up to.
        let cache = try? await run("dump_cache")
        // `start` unlinks the control path first: the old process keeps its socket open (no
        // client needs it meanwhile), and the path answers only once the new one listens.
        try await start(settings, fingerprint: Self.fingerprint(config))
        if let cache, cache.contains("EOF") {
            _ = try? await run("load_cache", input: cache.split(separator: "\n").map(String.init))
        }
        if old.isRunning { _ = try? await Offload.run { ChildProcess.stop(old.pid) } }
        return true
    }

    /// Waits until the current process exits (returns at once when none runs).
    func waitForExit() async {
        guard let pid = runningPID else { return }
        _ = await ChildProcess.waitForExit(pid)
    }

    /// Runs a control command on a thread (bulk commands take a while).
    nonisolated func run(_ command: String, input: [String]? = nil) async throws -> String {
        let control = control
        return try await Offload.run { try control.run(command, input: input) }
    }

    /// The last lines unbound logged.
    nonisolated func logTail(_ lines: Int = 5) -> String {
        HelperSupervisor.logTail(paths.log, lines: lines)
    }

    private func prepare(_ settings: DNSSettings) throws -> String {
        let fm = FileManager.default
        let username = getpwnam("unbound") != nil ? "unbound" : ""
        var config = UnboundConfig(settings: settings, paths: paths, username: username)
        if let caBundle { config.caBundle = caBundle }
        let text = try config.render()
        do {
            try fm.createDirectory(
                atPath: paths.lists, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            for include in [paths.blocklistInclude, paths.recordsInclude] where !fm.fileExists(atPath: include) {
                try AtomicFile.write("# aios-net: empty\n", to: include)
            }
            if (try? String(contentsOfFile: paths.config, encoding: .utf8)) != text {
                try AtomicFile.write(text, to: paths.config)
            }
            return text
        } catch {
            throw AiosError(
                .unavailable, "cannot write the resolver's files in \(paths.directory): \(error)", cause: error)
        }
    }

    private func start(_ settings: DNSSettings, fingerprint: String) async throws {
        // No unlink of the control path: unbound replaces it when it binds, and until then a
        // process being replaced keeps answering there.
        var spec = ChildSpec(executable: executable, arguments: ["-d", "-c", paths.config], logPath: paths.log)
        if let current = sockets, current.address != settings.listenAddress || current.port != settings.port {
            sockets = nil
        }
        // Bound when no unbound serves the port (a process adopted from a previous daemon holds
        // sockets of its own, and then unbound binds its own too).
        if sockets == nil {
            sockets = try? ListeningSockets(address: settings.listenAddress, port: settings.port)
        }
        if sockets != nil {
            // unbound takes handed sockets only where systemd runs (it checks for
            // /run/systemd/system, as sd_booted does): a private /run that has the directory
            // says so, on machines with systemd or without it (containers, this lab).
            spec.privateRun = ["/run/systemd", "/run/systemd/system"]
        }
        let control = control
        do {
            // Ready on its own status, not the process it replaces (which held the path until
            // now): until then calls go to the one it replaces, or wait for it.
            process = try await helpers.start(
                Self.helperName, spec, passing: sockets.map { [$0.udp, $0.tcp] }, fingerprint: fingerprint,
                installHint: "install it (apt-get install unbound)", within: .seconds(15)
            ) { started in
                (try? control.run("status"))?.contains("(pid \(started.pid))") == true
            }
        } catch {
            throw AiosError(.unavailable, "\(error)", cause: error)
        }
    }

    static func fingerprint(_ text: String) -> String { Fingerprint.of(text) }
}
