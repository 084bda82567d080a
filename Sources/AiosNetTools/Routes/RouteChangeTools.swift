public import AiosCore
import AiosLinux

/// A route as `net.route_add`/`net.route_remove` take it.
public struct RouteInput: Codable, Sendable, Equatable {
    /// `default` or a CIDR.
    public var destination: String
    public var gateway: String?
    public var interface: String?
    public var metric: Int?
    /// Table number (default 254, main).
    public var table: Int?

    static let properties: [String: JSONSchema] = [
        "destination": .string("default or ADDR/LEN", maxLength: 64),
        "gateway": .string("Next hop", maxLength: 64),
        "interface": .string("Output interface", pattern: "^[^/\\s]{1,15}$"),
        "metric": .integer("Metric", minimum: 0, maximum: 4_294_967_295),
        "table": .integer("Routing table (default 254, main)", minimum: 1, maximum: 4_294_967_294),
    ]

    /// Validates and resolves to a netlink route.
    func spec(context: NetContext, needsNextHop: Bool = true) throws -> (RouteSpec, String) {
        var destination: CIDR?
        if self.destination != "default" {
            guard let cidr = CIDR(self.destination),
                self.destination.contains("/") || IPAddressText.parse(self.destination) != nil
            else {
                throw AiosError(
                    .invalidInput, "\(self.destination) is not default or ADDR/LEN",
                    location: InputLocation(field: "input.destination"))
            }
            destination = cidr.network
        }
        if let gateway {
            guard let bytes = IPAddressText.parse(gateway) else {
                throw AiosError(
                    .invalidInput, "\(gateway) is not an IPv4 or IPv6 address",
                    location: InputLocation(field: "input.gateway"))
            }
            if let destination, destination.isIPv6 != (bytes.count == 16) {
                throw AiosError(
                    .invalidInput, "gateway and destination are of different families",
                    location: InputLocation(field: "input.gateway"))
            }
        }
        guard gateway != nil || interface != nil || !needsNextHop else {
            throw AiosError(
                .invalidInput, "give a gateway, an interface or both", location: InputLocation(field: "input.gateway"))
        }
        let index = try interface.map { try context.link($0).index }
        let family: Int32 = destination.map { $0.isIPv6 ? 10 : 2 } ?? ((gateway ?? "").contains(":") ? 10 : 2)
        let spec = RouteSpec(
            destination: destination, family: family, gateway: gateway, outputIndex: index,
            metric: metric.map(UInt32.init),
            table: UInt32(table ?? 254))
        let text =
            "\(destination?.description ?? "default")" + (gateway.map { " via \($0)" } ?? "")
            + (interface.map { " dev \($0)" } ?? "")
            + (metric.map { " metric \($0)" } ?? "")
        return (spec, text)
    }

    /// The routes in the kernel that this input names (same destination, table, metric; and
    /// gateway/interface when given).
    func matches(_ routes: [NetlinkRoute], spec: RouteSpec) -> [NetlinkRoute] {
        routes.filter { route in
            Int32(route.family) == spec.family && route.table == spec.table
                && Int(route.destinationLength) == (spec.destination?.length ?? 0)
                && (spec.destination == nil || route.destination == spec.destination?.address)
                && (spec.metric == nil || route.priority == spec.metric)
        }
    }
}

/// `net.route_add`: add or replace a route (replace semantics: same destination, table and
/// metric). A route that captures the default route's traffic, a management subnet or the
/// default gateway, however it is spelled, is disruptive and guarded (`RouteCapture`).
public struct RouteAddTool: Tool {
    public typealias Input = RouteInput

    /// The route in force.
    public struct Output: Codable, Sendable {
        public var route: String
    }

    public static let descriptor = ToolDescriptor(
        name: "net.route_add", summary: "Add or replace a route (destination, gateway, interface, metric, table)",
        effect: .change,
        inputSchema: .object(
            RouteInput.properties, required: ["destination"],
            examples: [
                ["destination": "10.20.0.0/16", "gateway": "192.168.1.254"],
                ["destination": "default", "gateway": "192.168.1.1", "metric": 50],
            ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let (spec, text) = try input.spec(context: context)
        let routes: [NetlinkRoute]
        do {
            routes = try context.netlink.routes()
        } catch {
            throw kernelError("routes", error)
        }
        let existing = input.matches(routes, spec: spec)
        let output = Output(route: text)
        if existing.contains(where: {
            $0.gateway == spec.gateway && (spec.outputIndex == nil || $0.outputIndex == spec.outputIndex)
        }) {
            return .unchanged(output)
        }
        let inverse: CallRequest
        if let old = existing.first {
            var previous = input
            previous.gateway = old.gateway
            let links = try self.context.netlink.links()
            previous.interface = old.outputIndex.flatMap { index in links.first { $0.index == index }?.name }
            inverse = CallRequest(tool: Self.descriptor.name, input: try JSONValue(encoding: previous))
        } else {
            inverse = CallRequest(tool: RouteRemoveTool.descriptor.name, input: try JSONValue(encoding: input))
        }
        let netlink = context.netlink
        let context = context
        let probe = spec.gateway.map {
            CallRequest(tool: PingTool.descriptor.name, input: ["host": .string($0), "count": 1])
        }
        let capture = try await RouteCapture.current(context).reason(spec.destination)
        return .change(
            [Change(existing.isEmpty ? "add" : "set", "route \(text)", detail: capture.map { "guarded: \($0)" })],
            inverse: inverse, probe: probe, disruptive: capture != nil
        ) {
            do {
                try netlink.replaceRoute(spec)
            } catch {
                throw context.failed("cannot add route \(text)", error)
            }
            return output
        }
    }
}

/// `net.route_remove`: remove a route.
public struct RouteRemoveTool: Tool {
    public typealias Input = RouteInput
    public typealias Output = RouteAddTool.Output

    public static let descriptor = ToolDescriptor(
        name: "net.route_remove", summary: "Remove a route", effect: .change,
        inputSchema: .object(
            RouteInput.properties, required: ["destination"],
            examples: [["destination": "10.20.0.0/16", "gateway": "192.168.1.254"]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let (spec, text) = try input.spec(context: context, needsNextHop: false)
        let routes: [NetlinkRoute]
        do {
            routes = try context.netlink.routes()
        } catch {
            throw kernelError("routes", error)
        }
        let existing = input.matches(routes, spec: spec).filter {
            (spec.gateway == nil || $0.gateway == spec.gateway)
                && (spec.outputIndex == nil || $0.outputIndex == spec.outputIndex)
        }
        let output = Output(route: text)
        guard let old = existing.first else { return .unchanged(output) }
        var previous = input
        previous.gateway = old.gateway
        previous.metric = old.priority.map(Int.init)
        let links = try self.context.netlink.links()
        previous.interface = old.outputIndex.flatMap { index in links.first { $0.index == index }?.name }
        let inverse = CallRequest(tool: RouteAddTool.descriptor.name, input: try JSONValue(encoding: previous))
        let netlink = context.netlink
        let context = context
        let capture = try await RouteCapture.current(context).reason(spec.destination)
        return .change(
            [Change("remove", "route \(text)", detail: capture.map { "guarded: \($0)" })], inverse: inverse,
            disruptive: capture != nil
        ) {
            do {
                try netlink.removeRoute(
                    RouteSpec(
                        destination: spec.destination, family: spec.family, gateway: old.gateway,
                        outputIndex: old.outputIndex,
                        metric: old.priority, table: spec.table))
            } catch {
                throw context.failed("cannot remove route \(text)", error)
            }
            return output
        }
    }
}
