import AiosCore
import AiosLinux
import AiosStore

/// Whether a route can cut connectivity, judged by what it captures rather than how it is
/// spelled: `0.0.0.0/0` is the default route, `0.0.0.0/1` + `128.0.0.0/1` (wg-quick's trick)
/// take everything between them, and a more specific route into a management subnet, or over
/// the default gateway, takes the operators' path. Every tool that installs or removes routes
/// (`net.route_add`/`remove`, WireGuard `allowed_ips`) asks it, and such a change is guarded.
struct RouteCapture: Sendable {
    /// The management subnets: the daemon's `--management-subnet` and the firewall's stored intent.
    var management: [CIDR]
    /// Gateways of the default routes in force.
    var gateways: [String]

    /// Reads the management subnets and the default gateways now.
    static func current(_ context: NetContext) async throws -> RouteCapture {
        var subnets = context.settings.managementSubnets
        let intent = try await context.store.setting(Store.managementIntentSetting)
        subnets += intent?["subnets"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let routes = (try? context.netlink.routes()) ?? []
        return RouteCapture(
            management: subnets.compactMap(CIDR.init).map(\.network),
            gateways: routes.filter { $0.destination == nil && $0.table == 254 }.compactMap(\.gateway))
    }

    /// Why a route to `destination` (nil: the default route) can cut connectivity, or nil.
    func reason(_ destination: CIDR?) -> String? {
        guard let destination else { return "it is the default route" }
        if destination.length <= 1 {
            return "\(destination) captures half or more of the address space (a default route by another spelling)"
        }
        if let subnet = management.first(where: { $0.isIPv6 == destination.isIPv6 && $0.overlaps(destination) }) {
            return "\(destination) captures traffic to the management subnet \(subnet)"
        }
        if let gateway = gateways.first(where: { destination.contains($0) }) {
            return "\(destination) captures the default gateway \(gateway)"
        }
        return nil
    }

    /// The first reason among `destinations` (CIDR texts; unparsable ones are the caller's error).
    func reason(any destinations: [String]) -> String? {
        for text in destinations {
            if let cidr = CIDR(text), let reason = reason(cidr.network) { return reason }
        }
        return nil
    }
}
