public import AiosCore
import AiosLinux
import AiosStore

/// `net.failover`: send the default route through another interface (the link monitor runs it
/// when the uplink loses carrier, and again to go back when it returns). The gateway comes from
/// the interface's stored configuration or its DHCP lease. Disruptive: guarded by a ping of the
/// new gateway.
public struct FailoverTool: Tool {
    /// Where the default route should go.
    public struct Input: Decodable, Sendable {
        public var interface: String
        /// Default: the interface's configured gateway, or its lease's router.
        public var gateway: String?
        /// Why (for the audit trail).
        public var reason: String?
    }

    /// The default route afterwards.
    public struct Output: Codable, Sendable {
        public var interface: String
        public var gateway: String
        public var replaced: [String]
    }

    public static let descriptor = ToolDescriptor(
        name: "net.failover", summary: "Move the default route to an interface (link monitor failover and failback)",
        effect: .disruptive,
        inputSchema: .object(
            [
                "interface": .string("Interface to route through", pattern: "^[^/\\s]{1,15}$"),
                "gateway": .string("Its gateway (default: from its configuration or lease)", maxLength: 64),
                "reason": .string("Why", maxLength: 200),
            ], required: ["interface"],
            examples: [["interface": "eth1"], ["interface": "eth1", "gateway": "10.2.0.1"]]))

    let context: NetContext

    /// The gateway `interface` is configured with (static intent) or leased (DHCP).
    static func gateway(for interface: String, context: NetContext) async throws -> String? {
        if let intent = try await context.store.interfaceIntents().first(where: { $0.interface == interface }),
            let gateway = intent.config["gateway"]?.stringValue
        {
            return gateway
        }
        if let event = await context.dhcp.lastEvent(interface), DHCPEvent.bound.contains(event.reason) {
            return event.routers.first
        }
        return nil
    }

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let link = try context.link(input.interface)
        let known: String? =
            if let given = input.gateway { given } else { try await Self.gateway(for: link.name, context: context) }
        guard let gateway = known else {
            throw AiosError(
                .invalidInput, "\(link.name) has no known gateway (no static gateway, no DHCP lease); give gateway",
                location: InputLocation(field: "input.gateway"))
        }
        let family: UInt8 = gateway.contains(":") ? 10 : 2
        let routes = try context.netlink.routes().filter {
            $0.destinationLength == 0 && $0.table == 254 && $0.family == family
        }
        let names = Dictionary(try context.netlink.links().map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        let best = routes.min { ($0.priority ?? 0) < ($1.priority ?? 0) }
        let output = Output(
            interface: link.name, gateway: gateway,
            replaced: routes.filter { $0.outputIndex != link.index }.map {
                "via \($0.gateway ?? "-") dev \(names[$0.outputIndex ?? -1] ?? "?")"
            })
        if let best, best.outputIndex == link.index, best.gateway == gateway { return .unchanged(output) }
        let others = routes.filter { $0.outputIndex != link.index }
        let plan = Self.metrics(
            ours: routes.filter { $0.outputIndex == link.index }.compactMap(\.priority).min(),
            best: others.min { ($0.priority ?? 0) < ($1.priority ?? 0) }?.priority)
        let loser = others.min { ($0.priority ?? 0) < ($1.priority ?? 0) }
        let previous = routes
        let netlink = context.netlink
        let context = context
        let probe = CallRequest(tool: PingTool.descriptor.name, input: ["host": .string(gateway), "count": 2])
        let inverse = CallRequest(
            tool: FailoverTool.descriptor.name,
            input: best.flatMap { route in
                route.outputIndex.flatMap { names[$0] }.map {
                    ["interface": .string($0), "gateway": route.gateway.map(JSONValue.string) ?? .null]
                }
            }
            .map { JSONValue.object($0.filter { $0.value != .null }) } ?? ["interface": .string(link.name)])
        return .change(
            [
                Change(
                    "set", "default route",
                    detail: "via \(gateway) dev \(link.name)" + (input.reason.map { " (\($0))" } ?? ""))
            ],
            inverse: inverse, probe: probe
        ) {
            do {
                // Routes through the other interfaces stay (a failback uses them again). The
                // interface that wins takes the best metric and the one it beat takes the
                // winner's old one (a swap), so flapping links never walk the metrics down.
                if let demoted = plan.demoted, let loser {
                    // Replacing at the winner's old metric overwrites the winner's old route there.
                    try netlink.replaceRoute(
                        RouteSpec(
                            destination: nil, family: Int32(family), gateway: loser.gateway,
                            outputIndex: loser.outputIndex, metric: demoted))
                }
                for route in previous where route.outputIndex == link.index && route.priority != plan.demoted {
                    try? netlink.removeRoute(
                        RouteSpec(
                            destination: nil, family: Int32(family), gateway: route.gateway, outputIndex: link.index,
                            metric: route.priority))
                }
                // At the loser's old metric this replaces its route there.
                try netlink.replaceRoute(
                    RouteSpec(destination: nil, gateway: gateway, outputIndex: link.index, metric: plan.winner))
            } catch {
                throw context.failed("cannot move the default route to \(link.name)", error)
            }
            return output
        }
    }

    /// The metrics of a move: the winner's, and the one the beaten route moves to (nil: it stays).
    /// - Parameters:
    ///   - ours: the lowest metric of the interface's current default routes, if it has one.
    ///   - best: the lowest metric among the other interfaces' default routes, if any.
    static func metrics(ours: UInt32?, best: UInt32?) -> (winner: UInt32, demoted: UInt32?) {
        guard let best else { return (ours ?? 100, nil) }
        if let ours, ours > best { return (best, ours) }  // swap
        if let ours, ours < best { return (ours, nil) }  // already ahead (another gateway): keep the metric
        if best > 0 { return (best - 1, nil) }  // no route of ours to swap: just below the best
        return (0, 1)  // the best is already 0: it moves up one
    }
}
