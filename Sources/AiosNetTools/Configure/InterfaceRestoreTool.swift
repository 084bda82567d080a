public import AiosCore
import AiosLinux

/// `net.interface_restore`: put an interface back as a snapshot had it (addresses, default
/// routes, MTU, up/down, DHCP) — the inverse of `net.configure` and `net.link_set`.
public struct InterfaceRestoreTool: Tool {
    public typealias Input = InterfaceSnapshot

    /// What is in force afterwards.
    public struct Output: Codable, Sendable {
        public var interface: String
        public var addresses: [String]
    }

    public static let descriptor = ToolDescriptor(
        name: "net.interface_restore",
        summary: "Put an interface back as a snapshot had it (the inverse of net.configure and net.link_set)",
        effect: .disruptive,
        inputSchema: JSONSchema([
            "type": "object", "additionalProperties": false,
            "required": ["interface", "up", "mtu", "addresses", "defaultRoutes", "dhcp"],
            "properties": [
                "interface": ["type": "string", "maxLength": 15], "up": ["type": "boolean"],
                "mtu": ["type": "integer", "minimum": 68, "maximum": 65535],
                "addresses": ["type": "array", "items": ["type": "string", "maxLength": 64]],
                "defaultRoutes": ["type": "array", "items": ["type": "object"]], "dhcp": ["type": "boolean"],
            ],
            "examples": [
                [
                    "interface": "eth0", "up": true, "mtu": 1500, "addresses": ["192.0.2.10/24"], "defaultRoutes": [],
                    "dhcp": false,
                ]
            ],
        ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let link = try context.link(input.interface)
        let current = try await InterfaceSnapshot.capture(link, context: context)
        let output = Output(interface: input.interface, addresses: input.addresses)
        guard current != input else { return .unchanged(output) }
        let inverse = CallRequest(tool: Self.descriptor.name, input: try JSONValue(encoding: current))
        let context = context
        return .change(
            [Change("set", "interface \(input.interface)", detail: "restored from a snapshot")], inverse: inverse
        ) {
            let netlink = context.netlink
            if current.dhcp && !input.dhcp { await context.dhcp.stop(link.name) }
            do {
                let present = try netlink.addresses().filter { $0.index == link.index && $0.scope < 253 }
                    .map { "\($0.address)/\($0.prefixLength)" }
                for address in present where !input.addresses.contains(address) {
                    try netlink.removeAddress(CIDR(address)!, index: link.index)
                }
                if UInt32(input.mtu) != link.mtu { try netlink.setLink(index: link.index, mtu: UInt32(input.mtu)) }
                try netlink.setLink(index: link.index, up: input.up)
                for address in input.addresses where !present.contains(address) {
                    try netlink.addAddress(CIDR(address)!, index: link.index)
                }
                let routes = try netlink.routes().filter {
                    $0.outputIndex == link.index && $0.destinationLength == 0 && $0.table == 254
                }
                for route in routes {
                    let kept = InterfaceSnapshot.DefaultRoute(
                        gateway: route.gateway, metric: route.priority.map(Int.init),
                        family: route.family == 10 ? "inet6" : "inet")
                    if !input.defaultRoutes.contains(kept) {
                        try? netlink.removeRoute(
                            RouteSpec(
                                destination: nil, family: Int32(route.family), gateway: route.gateway,
                                outputIndex: link.index, metric: route.priority))
                    }
                }
                if input.up {
                    for route in input.defaultRoutes {
                        try netlink.replaceRoute(
                            RouteSpec(
                                destination: nil, family: route.family == "inet6" ? 10 : 2, gateway: route.gateway,
                                outputIndex: link.index, metric: route.metric.map(UInt32.init)))
                    }
                }
            } catch {
                throw context.failed("cannot restore \(link.name)", error)
            }
            if input.dhcp && !current.dhcp { try await context.dhcp.start(link.name, arpProbe: false) }
            return output
        }
    }
}
