import AiosCore
import AiosLinux

/// A static configuration, validated: addresses, gateway, metric, MTU, DNS servers.
struct StaticConfig: Sendable, Codable, Equatable {
    var addresses: [String]
    var gateway: String?
    var metric: Int
    var mtu: Int?
    var dns: [String]

    /// Validates the fields of `net.configure`.
    /// - Throws: `AiosError.invalidInput` naming the field.
    static func parse(addresses raw: [String], gateway: String?, metric: Int?, mtu: Int?, dns: [String]?) throws
        -> StaticConfig
    {
        var cidrs: [CIDR] = []
        for (index, text) in raw.enumerated() {
            let field = "input.addresses[\(index)]"
            guard text.contains("/") else {
                throw AiosError(
                    .invalidInput, "\(text) needs a prefix length (e.g. \(text)/24)",
                    location: InputLocation(field: field))
            }
            guard let cidr = CIDR(text) else {
                throw AiosError(
                    .invalidInput, "\(text) is not an IPv4/IPv6 address with a prefix (/0-32, /0-128)",
                    location: InputLocation(field: field))
            }
            if !cidr.isIPv6, cidr.length <= 30, cidr.offset(of: cidr.address) == 0 {
                throw AiosError(
                    .invalidInput, "\(text) is the network address of its subnet, not a host address",
                    location: InputLocation(field: field))
            }
            if !cidr.isIPv6, cidr.length <= 30, cidr.offset(of: cidr.address) == cidr.size - 1 {
                throw AiosError(
                    .invalidInput, "\(text) is the broadcast address of its subnet, not a host address",
                    location: InputLocation(field: field))
            }
            cidrs.append(cidr)
        }
        if let gateway {
            guard let bytes = IPAddressText.parse(gateway) else {
                throw AiosError(
                    .invalidInput, "\(gateway) is not an IPv4 or IPv6 address",
                    location: InputLocation(field: "input.gateway"))
            }
            guard cidrs.contains(where: { $0.isIPv6 == (bytes.count == 16) && $0.contains(gateway) }) else {
                throw AiosError(
                    .invalidInput,
                    "gateway \(gateway) is outside every subnet of the addresses (\(cidrs.map { $0.network.description }.joined(separator: ", "))); it would not be reachable",
                    location: InputLocation(field: "input.gateway"))
            }
        }
        if let mtu, cidrs.contains(where: \.isIPv6), mtu < 1280 {
            throw AiosError(
                .invalidInput, "IPv6 needs an MTU of at least 1280 (got \(mtu))",
                location: InputLocation(field: "input.mtu"))
        }
        for (index, server) in (dns ?? []).enumerated() where IPAddressText.parse(server) == nil {
            throw AiosError(
                .invalidInput, "\(server) is not an IPv4 or IPv6 address",
                location: InputLocation(field: "input.dns[\(index)]"))
        }
        return StaticConfig(
            addresses: cidrs.map { "\($0.address)/\($0.length)" },
            gateway: gateway.flatMap { IPAddressText.parse($0).flatMap(IPAddressText.format) },
            metric: metric ?? 100, mtu: mtu, dns: dns ?? [])
    }

    /// What applying this to an interface in `snapshot` would change.
    func diff(from snapshot: InterfaceSnapshot) -> [Change] {
        var out: [Change] = []
        if snapshot.dhcp {
            out.append(Change("remove", "dhcp on \(snapshot.interface)", detail: "static configuration instead"))
        }
        for address in snapshot.addresses where !addresses.contains(address) {
            out.append(Change("remove", "address \(address) on \(snapshot.interface)"))
        }
        for address in addresses where !snapshot.addresses.contains(address) {
            out.append(Change("add", "address \(address) on \(snapshot.interface)"))
        }
        if let mtu, mtu != snapshot.mtu {
            out.append(Change("set", "link \(snapshot.interface) mtu", detail: "\(snapshot.mtu) → \(mtu)"))
        }
        if !snapshot.up { out.append(Change("set", "link \(snapshot.interface)", detail: "up")) }
        if let gateway {
            let family = gateway.contains(":") ? "inet6" : "inet"
            let wanted = InterfaceSnapshot.DefaultRoute(gateway: gateway, metric: metric, family: family)
            if !snapshot.defaultRoutes.contains(wanted)
                || snapshot.defaultRoutes.filter({ $0.family == family }).count > 1
            {
                out.append(
                    Change("set", "default route", detail: "via \(gateway) dev \(snapshot.interface) metric \(metric)"))
            }
        }
        return out
    }

    /// Makes this configuration true on `link` (whose state was `snapshot`).
    func apply(to link: NetlinkLink, from snapshot: InterfaceSnapshot, context: NetContext) async throws {
        if snapshot.dhcp { await context.dhcp.stop(link.name) }
        let netlink = context.netlink
        do {
            // dhcpcd removes its own address when it stops; read again what is left.
            let present = try netlink.addresses().filter { $0.index == link.index && $0.scope < 253 }
                .map { "\($0.address)/\($0.prefixLength)" }
            for address in present where !addresses.contains(address) {
                try netlink.removeAddress(CIDR(address)!, index: link.index)
            }
            if let mtu, UInt32(mtu) != link.mtu { try netlink.setLink(index: link.index, mtu: UInt32(mtu)) }
            try netlink.setLink(index: link.index, up: true)
            for address in addresses where !present.contains(address) {
                try netlink.addAddress(CIDR(address)!, index: link.index)
            }
            if let gateway {
                let family = gateway.contains(":") ? "inet6" : "inet"
                let routes = try netlink.routes().filter {
                    $0.outputIndex == link.index && $0.destinationLength == 0 && $0.table == 254
                        && ($0.family == 10 ? "inet6" : "inet") == family
                }
                for route in routes where route.gateway != gateway || route.priority.map(Int.init) != metric {
                    try? netlink.removeRoute(
                        RouteSpec(
                            destination: nil, family: Int32(route.family), gateway: route.gateway,
                            outputIndex: link.index,
                            metric: route.priority))
                }
                try netlink.replaceRoute(
                    RouteSpec(destination: nil, gateway: gateway, outputIndex: link.index, metric: UInt32(metric)))
            }
        } catch {
            throw context.failed("cannot configure \(link.name)", error)
        }
    }
}
