public import AiosCore
import AiosLinux
import AiosStore

/// `net.configure`: give an interface a static configuration (addresses, gateway, MTU, DNS
/// servers) or hand it to DHCP (dhcpcd, supervised by PID) — with a reasoned fallback when no
/// DHCP server answers. Changes on the interface that carries (or will carry) the default route
/// can cut the machine off, so they are disruptive and run under the guard.
public struct ConfigureTool: Tool {
    /// The configuration.
    public struct Input: Decodable, Sendable {
        public var interface: String
        /// `static` or `dhcp`.
        public var method: String
        public var addresses: [String]?
        public var gateway: String?
        public var metric: Int?
        public var mtu: Int?
        public var dns: [String]?
        /// DHCP: how long to wait for a lease (ms) before the fallback.
        public var timeoutMs: Int?
        /// DHCP: infer a static configuration from the link when no server answers (default true).
        public var fallback: Bool?
        /// DHCP: keep dhcpcd's ARP probe of the offered address (default false: the server checks).
        public var arpProbe: Bool?

        enum CodingKeys: String, CodingKey {
            case interface, method, addresses, gateway, metric, mtu, dns, fallback
            case timeoutMs = "timeout_ms", arpProbe = "arp_probe"
        }
    }

    /// What the interface has afterwards.
    public struct Output: Codable, Sendable {
        public var interface: String
        public var method: String
        public var addresses: [String]
        public var gateway: String?
        public var lease: JSONValue?
        /// Set when DHCP found no server and the fallback ran.
        public var fallback: FallbackReport?
        /// The interface as it was before this call (`net.interface_restore`'s input, to undo it).
        public var previous: InterfaceSnapshot? = nil
    }

    /// What the fallback found and did.
    public struct FallbackReport: Codable, Sendable {
        public var applied: Bool
        public var address: String?
        public var gateway: String?
        public var subnet: String?
        public var reasoning: [String]
    }

    public static let descriptor = ToolDescriptor(
        name: "net.configure",
        summary: "Configure an interface: static addresses/gateway/MTU/DNS, or DHCP (dhcpcd) with a reasoned fallback",
        effect: .change,
        inputSchema: .object(
            [
                "interface": .string("Interface name", pattern: "^[^/\\s]{1,15}$"),
                "method": .string("static or dhcp", values: ["static", "dhcp"]),
                "addresses": .array(
                    of: .string("ADDR/LEN (IPv4 or IPv6)", maxLength: 64), "Static addresses", maxItems: 32),
                "gateway": .string("Default gateway (must lie in one of the subnets)", maxLength: 64),
                "metric": .integer("Default route metric (default 100)", minimum: 0, maximum: 65535),
                "mtu": .integer("Link MTU", minimum: 68, maximum: 65535),
                "dns": .array(
                    of: .string("DNS server address", maxLength: 64), "DNS servers, handed to dns.configure",
                    maxItems: 8),
                "timeout_ms": .integer(
                    "DHCP: wait this long for a lease (default 10000)", minimum: 100, maximum: 300_000),
                "fallback": .boolean("DHCP: infer a configuration from the link when no server answers (default true)"),
                "arp_probe": .boolean("DHCP: let dhcpcd ARP-probe the offered address (slower; default false)"),
            ], required: ["interface", "method"],
            examples: [
                ["interface": "eth0", "method": "dhcp"],
                [
                    "interface": "eth0", "method": "static", "addresses": ["192.168.1.10/24", "fd00:1::10/64"],
                    "gateway": "192.168.1.1", "dns": ["192.168.1.1"], "mtu": 1500,
                ],
            ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let link = try context.link(input.interface)
        let snapshot = try await InterfaceSnapshot.capture(link, context: context)
        let inverse = CallRequest(tool: InterfaceRestoreTool.descriptor.name, input: try JSONValue(encoding: snapshot))
        let context = context
        let origin = toolContext.origin.rawValue
        let now = toolContext.clock.nowMs()
        if input.method == "static" {
            guard let addresses = input.addresses, !addresses.isEmpty else {
                throw AiosError(
                    .invalidInput, "method static needs addresses", location: InputLocation(field: "input.addresses"))
            }
            let config = try StaticConfig.parse(
                addresses: addresses, gateway: input.gateway, metric: input.metric, mtu: input.mtu, dns: input.dns)
            let output = Output(
                interface: link.name, method: "static", addresses: config.addresses, gateway: config.gateway,
                previous: snapshot)
            let diff = config.diff(from: snapshot)
            let followUps =
                config.dns.isEmpty
                ? []
                : [CallRequest(tool: "dns.configure", input: ["upstreams": .array(config.dns.map(JSONValue.string))])]
            let intent = InterfaceIntentRecord(
                interface: link.name, method: "static", config: try JSONValue(encoding: config), origin: origin,
                updatedMs: now)
            guard !diff.isEmpty else {
                // Already true: remember it as the interface's intent all the same (declarative).
                var plan = ToolPlan<Output>.unchanged(output)
                plan.apply = {
                    try await context.store.saveInterfaceIntent(intent)
                    return output
                }
                return plan
            }
            let probe = config.gateway.map {
                CallRequest(tool: PingTool.descriptor.name, input: ["host": .string($0), "count": 1])
            }
            return .change(
                diff, inverse: inverse, probe: probe, disruptive: snapshot.isUplink || config.gateway != nil,
                followUps: followUps
            ) {
                try await config.apply(to: link, from: snapshot, context: context)
                try await context.store.saveInterfaceIntent(
                    InterfaceIntentRecord(
                        interface: link.name, method: "static", config: try JSONValue(encoding: config), origin: origin,
                        updatedMs: now))
                return output
            }
        }
        if input.addresses != nil || input.gateway != nil {
            throw AiosError(
                .invalidInput, "method dhcp takes no addresses or gateway (the lease decides)",
                location: InputLocation(field: input.addresses != nil ? "input.addresses" : "input.gateway"))
        }
        let lease = await context.dhcp.lastEvent(link.name)
        let bound = snapshot.dhcp && lease.map { DHCPEvent.bound.contains($0.reason) } == true
        let leaseOutput = Output(
            interface: link.name, method: "dhcp", addresses: snapshot.addresses, gateway: lease?.routers.first,
            lease: lease?.summary, previous: snapshot)
        if bound { return .unchanged(leaseOutput) }
        let timeout = input.timeoutMs ?? context.settings.dhcpTimeoutMs
        let fallback = input.fallback ?? true
        let arpProbe = input.arpProbe ?? false
        let diff = [
            Change(
                "set", "dhcp on \(link.name)", detail: fallback ? "with fallback after \(timeout) ms" : "no fallback")
        ]
        return .change(diff, inverse: inverse, disruptive: snapshot.isUplink) {
            try await DHCPConfigure.run(
                link: link, snapshot: snapshot, timeoutMs: timeout, fallback: fallback, arpProbe: arpProbe,
                mtu: input.mtu,
                context: context, origin: origin, now: now)
        }
    }
}

/// The DHCP side of `net.configure`: start dhcpcd, wait for a lease, else fall back.
enum DHCPConfigure {
    static func run(
        link: NetlinkLink, snapshot: InterfaceSnapshot, timeoutMs: Int, fallback: Bool, arpProbe: Bool, mtu: Int?,
        context: NetContext, origin: String, now: Int64
    ) async throws -> ConfigureTool.Output {
        let netlink = context.netlink
        do {
            // Static addresses go: the lease decides now.
            for address in snapshot.addresses where !address.contains(":") {
                try? netlink.removeAddress(CIDR(address)!, index: link.index)
            }
            if let mtu { try netlink.setLink(index: link.index, mtu: UInt32(mtu)) }
            try netlink.setLink(index: link.index, up: true)
        } catch {
            throw context.failed("cannot prepare \(link.name) for DHCP", error)
        }
        try await context.dhcp.start(link.name, arpProbe: arpProbe)
        try await context.store.saveInterfaceIntent(
            InterfaceIntentRecord(
                interface: link.name, method: "dhcp",
                config: ["fallback": .bool(fallback), "arp_probe": .bool(arpProbe)],
                origin: origin, updatedMs: now))
        // The kernel has the lease once its address is on the link and, when it names routers,
        // the default route through the first.
        let kernelHas: @Sendable (DHCPEvent) -> Bool = { event in
            guard let address = event.address,
                (try? netlink.addresses().contains { $0.index == link.index && $0.address == address }) == true
            else { return false }
            guard let router = event.routers.first else { return true }
            return (try? netlink.routes().contains { $0.destination == nil && $0.gateway == router }) == true
        }
        if let event = await context.dhcp.waitForLease(link.name, timeoutMs: timeoutMs, kernelHas: kernelHas) {
            // Without dhcpcd's RFC 5227 probe (seconds), one ARP probe for the leased address
            // (25 ms): an address someone already uses is refused, not kept.
            if !arpProbe, let address = event.address, !link.hardwareAddress.isEmpty {
                let index = link.index
                let mac = link.hardwareAddress
                if let owner = try? await Offload.run({
                    try LinkCapture.probe(index: index, mac: mac, candidate: address, probes: 1, waitMs: 25)
                }) {
                    throw AiosError(
                        .failed,
                        "the DHCP server leased \(address) on \(link.name), but \(IPAddressText.mac(owner)) already uses it (ARP conflict check); the server's pool overlaps a static host"
                    )
                }
            }
            return ConfigureTool.Output(
                interface: link.name, method: "dhcp",
                addresses: event.address.map { ["\($0)/\(event.prefixLength ?? 32)"] } ?? [],
                gateway: event.routers.first, lease: event.summary, fallback: nil, previous: snapshot)
        }
        guard fallback else {
            throw AiosError(
                .failed,
                "no DHCP server answered on \(link.name) within \(timeoutMs) ms (dhcpcd keeps asking); no fallback was asked for"
            )
        }
        let result = try await FallbackAnalyzer(link: link, listenMs: context.settings.fallbackListenMs).analyze()
        var report = ConfigureTool.FallbackReport(
            applied: false, address: result.address, gateway: result.gateway, subnet: result.subnet,
            reasoning: ["no DHCP server answered within \(timeoutMs) ms"] + result.reasoning)
        if let address = result.address {
            // dhcpcd keeps soliciting in the background: a server that appears later wins.
            let config = StaticConfig(addresses: [address], gateway: result.gateway, metric: 100, mtu: nil, dns: [])
            var current = try await InterfaceSnapshot.capture(link, context: context)
            current.dhcp = false
            try await config.apply(to: link, from: current, context: context)
            report.applied = true
            report.reasoning.append(
                "configured \(address)" + (result.gateway.map { " with gateway \($0)" } ?? "")
                    + "; dhcpcd keeps asking, a lease replaces it")
        }
        return ConfigureTool.Output(
            interface: link.name, method: "dhcp", addresses: result.address.map { [$0] } ?? [], gateway: result.gateway,
            lease: nil, fallback: report, previous: snapshot)
    }
}
