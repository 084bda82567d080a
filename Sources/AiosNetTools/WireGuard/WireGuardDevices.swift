import AiosCore
import AiosLinux
import AiosStore
import AiosUnbound
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The WireGuard devices the daemon runs: through the kernel module where the kernel has it,
/// else `wireguard-go` (one supervised process per interface, by PID). Its UAPI socket is where
/// `wg` looks, `/run/wireguard/NAME.sock`, so `wg show` works from the daemon's namespace; the
/// directory is shared by every network namespace, so a name whose socket a live wireguard-go
/// already serves (in another namespace) is refused, never hidden. Configuration goes over that
/// socket, never through `wg`.
actor WireGuardDevices {
    let store: Store
    let netlink: any NetworkKernel
    let keys: WireGuardKeyStore
    let logDirectory: String
    /// Where endpoint names find their nameservers.
    let resolvConf: String
    let helpers: HelperSupervisor
    private var processes: [String: HelperProcess] = [:]
    /// Devices of the kernel module (configured over generic netlink).
    private var kernel: Set<String> = []

    static let executable = "/usr/bin/wireguard-go"

    init(
        store: Store, netlink: any NetworkKernel, keys: WireGuardKeyStore, logDirectory: String,
        resolvConf: String = "/etc/resolv.conf"
    ) {
        self.store = store
        self.netlink = netlink
        self.keys = keys
        self.logDirectory = logDirectory
        self.resolvConf = resolvConf
        self.helpers = HelperSupervisor(ledger: store, nowMs: { SystemClock().nowMs() })
    }

    /// Finds the wireguard-go instances a previous daemon left running, and the kernel devices.
    func adopt() async {
        for record in (try? await store.wireGuardInterfaces()) ?? [] where record.backend == "kernel" {
            kernel.insert(record.interface)
        }
        processes.merge(await helpers.adoptAll(prefix: "wireguard-go:")) { _, adopted in adopted }
    }

    /// True when `interface` is a running device (either backend).
    func isRunning(_ interface: String) -> Bool {
        if socket(interface) != nil { return true }
        return kernel.contains(interface)
            && (try? netlink.links().contains { $0.name == interface && $0.kind == "wireguard" }) == true
    }

    /// The UAPI socket of `interface`, when a wireguard-go serves it.
    func socket(_ interface: String) -> String? {
        guard processes[interface]?.isRunning == true else { return nil }
        return Self.socketPath(interface)
    }

    /// Where wireguard-go serves `interface`'s UAPI (and `wg` looks for it).
    static func socketPath(_ interface: String) -> String { "/run/wireguard/\(interface).sock" }

    /// Makes sure the device exists.
    /// - Returns: the backend (`kernel` or `wireguard-go`).
    func ensure(_ interface: String) async throws -> String {
        if socket(interface) != nil { return "wireguard-go" }
        if let link = try? netlink.links().first(where: { $0.name == interface }) {
            if link.kind == "wireguard" {
                kernel.insert(interface)
                return "kernel"
            }
            throw AiosError(
                .invalidInput, "a link named \(interface) exists and is not WireGuard",
                location: InputLocation(field: "input.interface"))
        }
        do {
            try netlink.createLink(interface, kind: "wireguard")
            kernel.insert(interface)
            return "kernel"
        } catch  where error.errno == EOPNOTSUPP {
            // No kernel module (this sandbox): the userspace implementation it is.
        } catch {
            throw AiosError(.kernel, "cannot create WireGuard interface \(interface): \(error)", cause: error)
        }
        let path = Self.socketPath(interface)
        if (try? WireGuardUAPI(socketPath: path).get()) != nil {
            throw AiosError(
                .invalidInput,
                "\(path) is served by another wireguard-go (an interface \(interface) in another network namespace?): pick another name",
                location: InputLocation(field: "input.interface"))
        }
        let spec = ChildSpec(
            executable: Self.executable, arguments: ["-f", interface],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LOG_LEVEL": "error"],
            logPath: "\(logDirectory)/wireguard-go-\(interface).log")
        do {
            processes[interface] = try await helpers.start(
                "wireguard-go:\(interface)", spec,
                installHint: "the kernel has no WireGuard: apt-get install wireguard-go"
            ) { _ in
                (try? await Offload.run { try WireGuardUAPI(socketPath: path).get() }) != nil
            }
            return "wireguard-go"
        } catch {
            throw AiosError(.unavailable, "\(error) (for \(interface))", cause: error)
        }
    }

    /// Applies `configuration`: over the UAPI socket (wireguard-go) or generic netlink (kernel).
    func set(_ interface: String, _ configuration: WireGuardConfiguration) async throws {
        do {
            if let path = socket(interface) {
                let lines = configuration.uapiLines
                try await Offload.run { try WireGuardUAPI(socketPath: path).set(lines) }
            } else if kernel.contains(interface) {
                try WireGuardNetlink().set(interface, configuration)
            } else {
                throw AiosError(.unavailable, "no WireGuard device \(interface) is running")
            }
        } catch let error as AiosError {
            throw error
        } catch {
            throw AiosError(.kernel, "WireGuard \(interface) refused the configuration: \(error)", cause: error)
        }
    }

    /// Reads the device (for status).
    func get(_ interface: String) async throws -> WireGuardDevice {
        do {
            if let path = socket(interface) {
                return try await Offload.run { try WireGuardUAPI(socketPath: path).get() }
            }
            if kernel.contains(interface) { return try WireGuardNetlink().get(interface) }
        } catch {
            throw AiosError(.kernel, "cannot read WireGuard \(interface): \(error)", cause: error)
        }
        throw AiosError(.notFound, "no WireGuard device \(interface) is running")
    }

    /// Removes the device (stopping wireguard-go removes its link and socket).
    func remove(_ interface: String) async {
        kernel.remove(interface)
        if let process = processes.removeValue(forKey: interface) {
            await helpers.stop(process)
            return
        } else if let link = try? netlink.links().first(where: { $0.name == interface && $0.kind == "wireguard" }) {
            try? netlink.deleteLink(index: link.index)
        }
        try? await store.deleteHelper("wireguard-go:\(interface)")
    }

    /// Resolves an endpoint's host (a name through the nameservers of `resolvConf`, A then AAAA).
    /// - Returns: the address and the port.
    nonisolated func resolve(_ endpoint: String) async throws -> (address: String, port: Int) {
        let parsed = try Endpoint.parse(endpoint, field: "endpoint")
        if parsed.isLiteral { return (parsed.host, parsed.port) }
        let servers = DNSLookupTool.nameservers(resolvConf)
        for type in [1, 28] {
            if let answer = try? await UnboundResolver(forwarders: servers).resolve(
                parsed.host, type: type, timeout: 3),
                let address = answer.records.first
            {
                return (address, parsed.port)
            }
        }
        throw AiosError(.failed, "cannot resolve the endpoint \(parsed.host) through the nameservers in \(resolvConf)")
    }
}
