import AiosCore
import AiosLinux

/// An interface's configuration as the kernel has it: what a change's inverse puts back.
public struct InterfaceSnapshot: Codable, Sendable, Equatable {
    public var interface: String
    public var up: Bool
    public var mtu: Int
    /// Global (and site) addresses, `addr/len`; link-local ones are the kernel's.
    public var addresses: [String]
    /// Default routes through this interface.
    public var defaultRoutes: [DefaultRoute]
    /// True when a DHCP client was running for it.
    public var dhcp: Bool

    /// A default route.
    public struct DefaultRoute: Codable, Sendable, Equatable, Hashable {
        public var gateway: String?
        public var metric: Int?
        public var family: String
    }

    /// Reads the snapshot of `link`.
    static func capture(_ link: NetlinkLink, context: NetContext) async throws -> InterfaceSnapshot {
        let addresses: [NetlinkAddress]
        let routes: [NetlinkRoute]
        do {
            addresses = try context.netlink.addresses()
            routes = try context.netlink.routes()
        } catch {
            throw kernelError("addresses and routes", error)
        }
        return InterfaceSnapshot(
            interface: link.name, up: link.flags & 1 != 0, mtu: Int(link.mtu),
            addresses: addresses.filter { $0.index == link.index && $0.scope < 253 }.map {
                "\($0.address)/\($0.prefixLength)"
            }
            .sorted(),
            defaultRoutes: routes.filter {
                $0.outputIndex == link.index && $0.destinationLength == 0 && $0.table == 254
            }
            .map {
                DefaultRoute(
                    gateway: $0.gateway, metric: $0.priority.map(Int.init), family: $0.family == 10 ? "inet6" : "inet")
            }
            .sorted { ($0.family, $0.metric ?? 0) < ($1.family, $1.metric ?? 0) },
            dhcp: await context.dhcp.isRunning(link.name))
    }

    /// True when this interface carries a default route (it is an uplink).
    var isUplink: Bool { !defaultRoutes.isEmpty }
}
