public import AiosCore
import AiosLinux
import AiosStore
import Foundation

/// `firewall.sandbox_attach`: give a workload (a network namespace) a veth on a sandbox bridge
/// with an address, a default route via the bridge, and a profile. Attaching again with another
/// profile or allow list changes only the firewall elements.
public struct SandboxAttachTool: Tool {
    /// The workload.
    public struct Input: Decodable, Sendable {
        public var sandbox: String?
        public var workload: String
        /// A network namespace name (`ip netns add NAME`).
        public var namespace: String?
        /// Or the PID of a process in the workload's namespace.
        public var pid: Int?
        public var profile: String?
        /// The allow list of a `custom` profile.
        var allow: [AllowInput]?
        /// The workload's interface name (default eth0).
        public var interface: String?
    }

    /// The workload as attached.
    public struct Output: Codable, Sendable {
        public var sandbox: String
        public var workload: String
        public var profile: String
        public var address: String?
        public var gateway: String?
        public var hostInterface: String?
        public var allow: [String]

        enum CodingKeys: String, CodingKey {
            case sandbox, workload, profile, address, gateway, allow
            case hostInterface = "host_interface"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "firewall.sandbox_attach",
        summary:
            "Attach a workload's network namespace to a sandbox network with a profile (veth, address, route, rules)",
        effect: .change,
        inputSchema: .object(
            [
                "sandbox": .string("Sandbox name (default \"default\")", pattern: "^[a-z0-9][a-z0-9-]{0,31}$"),
                "workload": .string("Workload name", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
                "namespace": .string("Its network namespace (ip netns name)", pattern: "^[A-Za-z0-9_.-]{1,64}$"),
                "pid": .integer("Or a PID inside its namespace", minimum: 1),
                "profile": .string(
                    "none, host-loopback, nat-filtered, isolated or custom (default: the sandbox's)",
                    values: SandboxProfile.allCases.map(\.rawValue)),
                "allow": .array(
                    of: .object(
                        [
                            "protocol": .string("tcp (default) or udp", values: ["tcp", "udp"]),
                            "port": JSONSchema([
                                "type": ["integer", "string"], "description": "A port or a range (\"8000-8080\")",
                            ]),
                            "destination": .string("IPv4 address or prefix, or any (default)", maxLength: 18),
                        ], required: ["port"]), "The allow list of profile custom", minItems: 1, maxItems: 256),
                "interface": .string(
                    "Interface name inside the workload (default eth0)", pattern: "^[A-Za-z0-9_.-]{1,15}$"),
            ], required: ["workload"],
            examples: [
                ["workload": "task-001", "namespace": "task-001"],
                [
                    "workload": "builder", "namespace": "builder", "profile": "custom",
                    "allow": [["port": 443, "destination": "192.0.2.0/24"], ["protocol": "udp", "port": 123]],
                ],
                ["workload": "offline-job", "profile": "none"],
            ]))

    let networks: SandboxNetworks

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let sandboxName = input.sandbox ?? "default"
        guard let sandbox = try await networks.store.sandbox(named: sandboxName) else {
            throw AiosError(
                .notFound, "no sandbox named \(sandboxName); create it with firewall.sandbox_create",
                location: InputLocation(field: "input.sandbox"))
        }
        guard let profile = SandboxProfile(rawValue: input.profile ?? sandbox.profile) else {
            throw AiosError(.invalidInput, "unknown profile", location: InputLocation(field: "input.profile"))
        }
        var allow: [SandboxAllowEntry] = []
        if let raw = input.allow {
            guard profile == .custom else {
                throw AiosError(
                    .invalidInput, "an allow list needs profile custom (this workload gets \(profile.rawValue))",
                    location: InputLocation(field: "input.allow"))
            }
            allow = try raw.enumerated().map { try SandboxAllowEntry.parse($1, field: "input.allow[\($0)]") }
            try SandboxAllowEntry.checkOverlaps(allow, field: "input.allow")
        } else if profile == .custom {
            throw AiosError(
                .invalidInput, "profile custom needs an allow list", location: InputLocation(field: "input.allow"))
        }
        let namespace: NetworkNamespace? = profile.plumbed ? try resolveNamespace(input) : nil
        let existing = try await networks.store.sandboxWorkloads(in: sandboxName).first { $0.name == input.workload }
        let hostInterface = profile.plumbed ? Self.hostInterface(sandbox: sandboxName, workload: input.workload) : nil
        let address: String? = profile.plumbed ? try await chooseAddress(sandbox, workload: input.workload) : nil
        let allowJSON = try JSONValue(encoding: allow)
        let record = SandboxWorkloadRecord(
            sandbox: sandboxName, name: input.workload, profile: profile.rawValue, address: address,
            hostInterface: hostInterface, namespace: namespace?.path, allow: allowJSON,
            origin: context.origin.rawValue, createdMs: existing?.createdMs ?? context.clock.nowMs())
        let output = Output(
            sandbox: sandboxName, workload: input.workload, profile: profile.rawValue, address: address,
            gateway: profile.plumbed ? sandbox.gateway : nil, hostInterface: hostInterface, allow: allow.map(\.summary))

        let hostLink = try hostInterface.flatMap { try networks.link($0) }
        let bridgeIndex = try networks.link(sandbox.bridge)?.index
        let samePlumbing =
            existing?.namespace == record.namespace && existing?.address == record.address
            && (!profile.plumbed || (hostLink != nil && hostLink?.master == bridgeIndex))
        if let existing, samePlumbing, existing.profile == record.profile, existing.allow == record.allow {
            return .unchanged(output)
        }
        if hostLink != nil && existing == nil {
            throw AiosError(
                .invalidInput,
                "a link named \(hostInterface ?? "") exists that aios-net did not make for this workload",
                location: InputLocation(field: "input.workload"))
        }
        var diff: [Change] = []
        let replumb = !samePlumbing
        if let existing, replumb, existing.hostInterface != nil {
            diff.append(Change("remove", "veth \(existing.hostInterface ?? "")", detail: "re-plumbed"))
        }
        if replumb, let hostInterface, let address {
            diff.append(
                Change(
                    "add", "veth \(hostInterface) on \(sandbox.bridge)",
                    detail: "\(input.interface ?? "eth0") \(address) in \(namespace?.path ?? "")"))
        }
        diff.append(
            Change(
                existing == nil ? "add" : "set", "workload \(input.workload)",
                detail: ([profile.rawValue] + allow.map(\.summary)).joined(separator: "; ")))
        let inverse: CallRequest =
            if let existing {
                CallRequest(tool: Self.descriptor.name, input: Self.input(for: existing, interface: input.interface))
            } else {
                CallRequest(
                    tool: SandboxDetachTool.descriptor.name,
                    input: ["sandbox": .string(sandboxName), "workload": .string(input.workload)])
            }
        let interface = input.interface ?? "eth0"
        return .change(diff, inverse: inverse) { [networks] in
            var commands: [JSONValue] = []
            if let existing { commands += SandboxWorkloadPlumbing.elements(existing, add: false) }
            if replumb, let existing { try SandboxWorkloadPlumbing.unplumb(existing, networks: networks) }
            if replumb, let hostInterface, let address, let namespace {
                try SandboxWorkloadPlumbing.plumb(
                    host: hostInterface, inside: interface, namespace: namespace, address: address, sandbox: sandbox,
                    networks: networks)
            }
            commands += SandboxWorkloadPlumbing.elements(record, add: true)
            do {
                if !commands.isEmpty { try networks.apply(commands, what: "cannot apply the workload's profile") }
            } catch {
                if replumb { try? SandboxWorkloadPlumbing.unplumb(record, networks: networks) }
                throw error
            }
            try await networks.store.saveSandboxWorkload(record)
            return output
        }
    }

    /// `vsb` + 8 hex digits of a hash of sandbox and workload: stable, short (IFNAMSIZ), unique enough.
    static func hostInterface(sandbox: String, workload: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in "\(sandbox)/\(workload)".utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let hex = String(hash, radix: 16)
        return "vsb" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The input that re-attaches `record` as it is.
    static func input(for record: SandboxWorkloadRecord, interface: String?) -> JSONValue {
        var members: [String: JSONValue] = [
            "sandbox": .string(record.sandbox), "workload": .string(record.name), "profile": .string(record.profile),
        ]
        if let path = record.namespace, path.hasPrefix("/run/netns/") {
            members["namespace"] = .string(String(path.dropFirst("/run/netns/".count)))
        } else if let path = record.namespace, let pid = Int(path.split(separator: "/").dropFirst().first ?? "") {
            members["pid"] = .number(Double(pid))
        }
        if let interface { members["interface"] = .string(interface) }
        let entries = (try? record.allow.decode(as: [SandboxAllowEntry].self)) ?? []
        if !entries.isEmpty {
            members["allow"] = .array(
                entries.map { entry in
                    [
                        "protocol": .string(entry.protocolName),
                        "port": entry.ports.count == 1
                            ? .number(Double(entry.ports.lowerBound))
                            : .string("\(entry.ports.lowerBound)-\(entry.ports.upperBound)"),
                        "destination": .string(entry.destination),
                    ]
                })
        }
        return .object(members)
    }

    private func resolveNamespace(_ input: Input) throws -> NetworkNamespace {
        let namespace: NetworkNamespace
        let field: String
        if let name = input.namespace {
            namespace = .named(name)
            field = "input.namespace"
        } else if let pid = input.pid {
            namespace = .ofProcess(Int32(pid))
            field = "input.pid"
        } else {
            throw AiosError(
                .invalidInput, "name the workload's network namespace (namespace or pid), or use profile none",
                location: InputLocation(field: "input.namespace"))
        }
        guard let inode = namespace.inode() else {
            throw AiosError(
                .notFound, "no network namespace at \(namespace.path)", location: InputLocation(field: field))
        }
        if inode == NetworkNamespace.ofProcess(getpid()).inode() {
            throw AiosError(
                .invalidInput, "\(namespace.path) is aios-net's own namespace, not a workload's",
                location: InputLocation(field: field))
        }
        return namespace
    }

    /// The workload's address: the one it has, else the first free one after the gateway.
    private func chooseAddress(_ sandbox: SandboxRecord, workload: String) async throws -> String {
        let workloads = try await networks.store.sandboxWorkloads(in: sandbox.name)
        if let address = workloads.first(where: { $0.name == workload })?.address { return address }
        let used = Set(workloads.compactMap(\.address))
        let subnet = CIDR(sandbox.subnet)!
        var offset: UInt128 = 2
        while offset < subnet.size - 1 {
            if let candidate = subnet.host(offset), !used.contains(candidate) { return candidate }
            offset += 1
        }
        throw AiosError(.failed, "sandbox \(sandbox.name)'s subnet \(sandbox.subnet) is full")
    }
}
