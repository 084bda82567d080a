import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One DHCP event from dhcpcd's hook: the reason and the variables.
struct DHCPEvent: Sendable, Codable, Hashable {
    var interface: String
    var reason: String
    var variables: [String: String]

    /// The reasons that mean the interface has a lease.
    static let bound: Set<String> = ["BOUND", "RENEW", "REBIND", "REBOOT", "STATIC"]
    /// The reasons that mean it lost it.
    static let lost: Set<String> = ["EXPIRE", "NAK", "FAIL", "NOCARRIER", "STOP", "STOPPED", "DEPARTED", "TIMEOUT"]

    var address: String? { variables["new_ip_address"] }
    var prefixLength: Int? { variables["new_subnet_cidr"].flatMap(Int.init) }
    var routers: [String] { (variables["new_routers"] ?? "").split(separator: " ").map(String.init) }
    var dnsServers: [String] { (variables["new_domain_name_servers"] ?? "").split(separator: " ").map(String.init) }
    var leaseSeconds: Int? { variables["new_dhcp_lease_time"].flatMap(Int.init) }

    /// The lease as reported to callers.
    var summary: JSONValue {
        var out: [String: JSONValue] = ["reason": .string(reason)]
        if let address { out["address"] = .string("\(address)/\(prefixLength ?? 32)") }
        if !routers.isEmpty { out["routers"] = .array(routers.map(JSONValue.string)) }
        if !dnsServers.isEmpty { out["dns"] = .array(dnsServers.map(JSONValue.string)) }
        if let leaseSeconds { out["lease_seconds"] = .number(Double(leaseSeconds)) }
        if let server = variables["new_dhcp_server_identifier"] { out["server"] = .string(server) }
        if let domain = variables["new_domain_name"] { out["domain"] = .string(domain) }
        if let mtu = variables["new_interface_mtu"] { out["mtu"] = .string(mtu) }
        return .object(out)
    }
}

/// The dhcpcd instances the daemon runs, one per interface, by PID. Each runs in a private mount
/// namespace (its own /run/dhcpcd, its state directory bind-mounted on /var/lib/dhcpcd), so the
/// same interface name in two network namespaces never collides, with aios-net's own hook (so
/// dhcpcd's stock hooks never touch /etc/resolv.conf). Events arrive on a datagram socket.
actor DHCPClients {
    let directory: String
    let store: Store
    let hookBinary: String
    let helpers: HelperSupervisor
    private var processes: [String: HelperProcess] = [:]
    private var latest: [String: DHCPEvent] = [:]
    private var waiters: [String: [(id: Int, continuation: CheckedContinuation<DHCPEvent?, Never>)]] = [:]
    private var nextWaiter = 0
    private var listeners: [AsyncStream<DHCPEvent>.Continuation] = []

    init(directory: String, store: Store, hookBinary: String) {
        self.directory = directory
        self.store = store
        self.hookBinary = hookBinary
        self.helpers = HelperSupervisor(ledger: store, nowMs: { SystemClock().nowMs() })
    }

    var eventSocket: String { directory + "/dhcp-events.sock" }
    static let executable = "/usr/sbin/dhcpcd"

    /// True while a dhcpcd runs for `interface`.
    func isRunning(_ interface: String) -> Bool {
        processes[interface]?.isRunning == true
    }

    /// The last event for `interface`.
    func lastEvent(_ interface: String) -> DHCPEvent? { latest[interface] }

    /// A stream of every event (for the link monitor).
    func events() -> AsyncStream<DHCPEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DHCPEvent.self)
        listeners.append(continuation)
        return stream
    }

    /// Finds the dhcpcd instances a previous daemon left running.
    func adopt() async {
        processes.merge(await helpers.adoptAll(prefix: "dhcpcd:")) { _, adopted in adopted }
    }

    /// Starts dhcpcd for `interface` (stopping one already running).
    /// - Parameter arpProbe: keep dhcpcd's RFC 5227 probe of the offered address (seconds of delay)
    ///   instead of relying on the server's own conflict check.
    func start(_ interface: String, arpProbe: Bool) async throws {
        await stop(interface)
        let state = directory + "/dhcpcd-\(interface)"
        let fm = FileManager.default
        try? fm.createDirectory(
            atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let config = directory + "/dhcpcd.conf"
        let hook = directory + "/dhcp-hook"
        // dhcpcd runs its hook synchronously for every event, PREINIT and CARRIER before it even
        // asks for a lease: starting the aios-net binary for each made every lease late. Only the events the daemon acts on reach it.
        let reasons = DHCPEvent.bound.union(DHCPEvent.lost).sorted().joined(separator: "|")
        let script = """
            #!/bin/sh
            case "$reason" in
            \(reasons))
                exec \(try ConfigText.shell(hookBinary, field: "--hook-binary")) dhcp-hook --socket \(try ConfigText.shell(eventSocket, field: "--data-dir")) ;;
            esac
            exit 0

            """
        // Regenerated at every start, so not fsynced, and written only when they differ.
        let configText = """
            # Written by aios-net.
            option domain_name_servers, domain_name, domain_search, classless_static_routes, interface_mtu, host_name
            option rapid_commit
            require dhcp_server_identifier
            noipv4ll

            """
        do {
            for (path, text, mode) in [(config, configText, 0o644), (hook, script, 0o700)]
            where (try? String(contentsOfFile: path, encoding: .utf8)) != text {
                try AtomicFile.write(Array(text.utf8), to: path, mode: UInt32(mode), durable: false)
            }
        } catch {
            throw AiosError(
                .unavailable, "cannot write the DHCP client's files in \(directory): \(error)", cause: error)
        }
        var arguments = ["-4", "-B", "-L", "--nodelay", "-f", config, "-c", hook]
        if !arpProbe { arguments.append("-A") }
        arguments.append(interface)
        let spec = ChildSpec(
            executable: Self.executable, arguments: arguments, logPath: directory + "/dhcpcd-\(interface).log",
            privateRun: ["/run/dhcpcd"], bind: [state, "/var/lib/dhcpcd"])
        latest[interface] = nil
        do {
            processes[interface] = try await helpers.start(
                "dhcpcd:\(interface)", spec, installHint: "install dhcpcd-base")
        } catch {
            throw AiosError(.unavailable, "\(error) (for \(interface))", cause: error)
        }
    }

    /// Stops dhcpcd for `interface` (it deconfigures the address and routes it added).
    func stop(_ interface: String) async {
        guard let process = processes.removeValue(forKey: interface) else { return }
        await helpers.stop(process, grace: 5)
    }

    /// Asks the running dhcpcd to renew (SIGUSR1) or rebind (SIGHUP).
    func renew(_ interface: String) {
        guard let process = processes[interface] else { return }
        kill(process.pid, SIGUSR1)
    }

    /// Waits up to `timeoutMs` for a lease on `interface`: the hook's event, or — sooner, as
    /// dhcpcd writes its lease file before it configures the kernel and runs the hook — the lease
    /// file once `kernelHas` says the address it offers is on the interface.
    /// - Returns: the event that brought it, or nil.
    func waitForLease(
        _ interface: String, timeoutMs: Int, kernelHas: @escaping @Sendable (DHCPEvent) -> Bool = { _ in false }
    ) async -> DHCPEvent? {
        if let event = latest[interface], DHCPEvent.bound.contains(event.reason) { return event }
        let started = Date()
        let leaseFile = directory + "/dhcpcd-\(interface)/\(interface).lease"
        return await withTaskGroup(of: DHCPEvent?.self) { group in
            group.addTask { await self.waitForHook(interface, timeoutMs: timeoutMs) }
            group.addTask {
                let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
                while ContinuousClock.now < deadline, !Task.isCancelled {
                    if let event = Self.freshLease(leaseFile, since: started, interface: interface), kernelHas(event) {
                        return event
                    }
                    try? await Task.sleep(for: .milliseconds(2))
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// The lease in `path` when dhcpcd wrote it after `since` (an older one is a past lease).
    private static func freshLease(_ path: String, since: Date, interface: String) -> DHCPEvent? {
        guard let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date,
            modified >= since.addingTimeInterval(-0.001),
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        return DHCPLeaseFile.event([UInt8](data), interface: interface)
    }

    /// Waits for the hook's bound event (nil at the timeout, or when cancelled).
    private func waitForHook(_ interface: String, timeoutMs: Int) async -> DHCPEvent? {
        let id = nextWaiter
        nextWaiter += 1
        let timeout = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(timeoutMs))
            await self?.expire(interface, id: id)
        }
        defer { timeout.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters[interface, default: []].append((id, continuation))
            }
        } onCancel: {
            OwnedTasks.shared.run { await self.expire(interface, id: id) }
        }
    }

    private func expire(_ interface: String, id: Int) {
        guard var list = waiters[interface], let index = list.firstIndex(where: { $0.id == id }) else { return }
        let waiter = list.remove(at: index)
        waiters[interface] = list
        waiter.continuation.resume(returning: nil)
    }

    /// Takes an event from the hook: remembers it, persists it, wakes waiters.
    func handle(_ event: DHCPEvent, at ms: Int64) async {
        latest[event.interface] = event
        try? await store.saveDHCPLease(
            event.interface, reason: event.reason, lease: (try? JSONValue(encoding: event.variables)) ?? [:], at: ms)
        if DHCPEvent.bound.contains(event.reason), let list = waiters.removeValue(forKey: event.interface) {
            for waiter in list { waiter.continuation.resume(returning: event) }
        }
        for listener in listeners { listener.yield(event) }
    }
}
