public import AiosCore
import AiosLinux

/// `net.routes`: IPv4 and IPv6 routes with table, gateway, device and metric.
public struct RoutesTool: Tool {
    /// Which routes.
    public struct Input: Decodable, Sendable {
        /// `inet`, `inet6` or `all` (default).
        public var family: String?
        /// `main` (default), `local`, `all`, or a table number.
        public var table: String?
    }

    /// The routes, sorted by family, table, destination and metric.
    public struct Output: Codable, Sendable {
        public var routes: [Route]
    }

    /// One route.
    public struct Route: Codable, Sendable, Equatable {
        /// `inet` or `inet6`.
        public var family: String
        /// `default` or a CIDR (`10.0.0.0/24`, `10.0.0.5/32`).
        public var destination: String
        public var gateway: String?
        public var device: String?
        public var metric: Int?
        /// `main`, `local` or the table number.
        public var table: String
        /// `kernel`, `boot`, `static`, `dhcp`, …
        public var `protocol`: String
        /// `global`, `link`, `host`, …
        public var scope: String
        /// `unicast`, `local`, `broadcast`, `blackhole`, …
        public var type: String
        public var preferredSource: String?

        enum CodingKeys: String, CodingKey {
            case family, destination, gateway, device, metric, table, `protocol`, scope, type
            case preferredSource = "preferred_source"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.routes",
        summary: "List IPv4/IPv6 routes with table, gateway, device and metric (rtnetlink)",
        effect: .read,
        inputSchema: .object(
            [
                "family": .string("Address family", values: ["inet", "inet6", "all"]),
                "table": .string(
                    "Routing table: main, local, all or a number", pattern: "^(main|local|all|default|[0-9]{1,10})$"),
            ],
            examples: [[:], ["family": "inet6"], ["family": "inet", "table": "all"]]))

    let reader: any NetworkStateReading

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let wantedTable: UInt32? =
            switch input.table ?? "main" {
            case "all": nil
            case "main": 254
            case "local": 255
            case "default": 253
            case let number: UInt32(number)
            }
        if input.table != nil, input.table != "all", wantedTable == nil {
            throw AiosError(
                .invalidInput, "\(input.table!) is not a table", location: InputLocation(field: "input.table"))
        }
        let family: UInt8? =
            switch input.family ?? "all" {
            case "inet": 2
            case "inet6": 10
            default: nil
            }
        return .read {
            let links: [NetlinkLink]
            let routes: [NetlinkRoute]
            do {
                links = try reader.links()
                routes = try reader.routes()
            } catch {
                throw kernelError("routes", error)
            }
            let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
            let selected = routes.filter { route in
                (family == nil || route.family == family) && (wantedTable == nil || route.table == wantedTable)
                    && route.flags & 0x200 == 0  // RTM_F_CLONED: cache entries, not routes
            }
            let out = selected.map { route in
                let destination =
                    route.destinationLength == 0 && route.destination == nil
                    ? "default"
                    : "\(route.destination ?? (route.family == 2 ? "0.0.0.0" : "::"))/\(route.destinationLength)"
                return Route(
                    family: route.family == 2 ? "inet" : "inet6", destination: destination, gateway: route.gateway,
                    device: route.outputIndex.flatMap { names[$0] }, metric: route.priority.map(Int.init),
                    table: LinkNames.table(route.table), protocol: LinkNames.routeProtocol(route.protocolID),
                    scope: LinkNames.scope(route.scope), type: LinkNames.routeType(route.type),
                    preferredSource: route.preferredSource)
            }
            return Output(
                routes: out.sorted {
                    ($0.family, $0.table, $0.destination, $0.metric ?? 0) < (
                        $1.family, $1.table, $1.destination, $1.metric ?? 0
                    )
                })
        }
    }
}
