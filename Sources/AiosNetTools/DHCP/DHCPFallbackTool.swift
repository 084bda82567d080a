public import AiosCore
import AiosLinux

/// `net.dhcp_fallback`: infer a static configuration from the traffic on a link (no DHCP server
/// answers) and apply it, with the reasoning; dhcpcd keeps asking, and a lease replaces it.
public struct DHCPFallbackTool: Tool {
    /// The interface.
    public struct Input: Decodable, Sendable {
        public var interface: String
        /// How long to listen, ms.
        public var listenMs: Int?
        /// Only report what would be configured.
        public var dryAnalysis: Bool?

        enum CodingKeys: String, CodingKey {
            case interface
            case listenMs = "listen_ms", dryAnalysis = "analyse_only"
        }
    }

    public typealias Output = ConfigureTool.FallbackReport

    public static let descriptor = ToolDescriptor(
        name: "net.dhcp_fallback",
        summary:
            "Infer subnet, free address (ARP probe) and gateway from the link's traffic and configure them, explaining why",
        effect: .change,
        inputSchema: .object(
            [
                "interface": .string("Interface", pattern: "^[^/\\s]{1,15}$"),
                "listen_ms": .integer("How long to listen (default 3000)", minimum: 100, maximum: 60000),
                "analyse_only": .boolean("Report the findings without configuring them"),
            ], required: ["interface"], examples: [["interface": "eth0"], ["interface": "eth0", "analyse_only": true]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let link = try context.link(input.interface)
        let context = context
        let listen = input.listenMs ?? context.settings.fallbackListenMs
        let analyze: @Sendable () async throws -> FallbackAnalyzer.Result = {
            try await FallbackAnalyzer(link: link, listenMs: listen).analyze()
        }
        if input.dryAnalysis == true {
            return .read {
                let result = try await analyze()
                return Output(
                    applied: false, address: result.address, gateway: result.gateway, subnet: result.subnet,
                    reasoning: result.reasoning)
            }
        }
        let snapshot = try await InterfaceSnapshot.capture(link, context: context)
        let inverse = CallRequest(tool: InterfaceRestoreTool.descriptor.name, input: try JSONValue(encoding: snapshot))
        return .change(
            [Change("set", "interface \(link.name)", detail: "configuration inferred from the link's traffic")],
            inverse: inverse,
            disruptive: snapshot.isUplink
        ) {
            let result = try await analyze()
            var report = Output(
                applied: false, address: result.address, gateway: result.gateway, subnet: result.subnet,
                reasoning: result.reasoning)
            if let address = result.address {
                var current = try await InterfaceSnapshot.capture(link, context: context)
                current.dhcp = false
                try await StaticConfig(addresses: [address], gateway: result.gateway, metric: 100, mtu: nil, dns: [])
                    .apply(to: link, from: current, context: context)
                report.applied = true
                report.reasoning.append("configured \(address)" + (result.gateway.map { " with gateway \($0)" } ?? ""))
            }
            return report
        }
    }
}
