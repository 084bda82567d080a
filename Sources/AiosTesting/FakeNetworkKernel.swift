public import AiosLinux
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// rtnetlink in memory, for unit tests of the `net.*` planners: links (state, MTU, master),
/// addresses and routes, changed as the kernel changes them — an address added twice is
/// `EEXIST`, one removed that is not there `EADDRNOTAVAIL`, a route is replaced by destination,
/// table and metric, one removed that is not there `ESRCH`, an unknown link `ENODEV`. An address
/// brings its connected route, as the kernel adds one. Real rtnetlink is tested in namespaces.
public final class FakeNetworkKernel: NetworkKernel {
    private struct State {
        var links: [NetlinkLink] = []
        var addresses: [NetlinkAddress] = []
        var routes: [NetlinkRoute] = []
        var changes: [String] = []
    }
    private let state = Mutex(State())

    /// A kernel with loopback only.
    public init() {
        addLink("lo", up: true, mtu: 65536)
    }

    /// Adds a link (as a driver would) and returns its index.
    @discardableResult
    public func addLink(_ name: String, up: Bool = false, mtu: UInt32 = 1500, carrier: Bool = true) -> Int32 {
        state.withLock { state in
            let index = (state.links.map(\.index).max() ?? 0) + 1
            state.links.append(
                NetlinkLink(
                    index: index, name: name, mtu: mtu, flags: up ? UInt32(IFF_UP) : 0,
                    carrier: carrier))
            return index
        }
    }

    /// Every change made, in order (`set link 2 up`, `add address 10.0.0.5/24 on 2`, …).
    public var changes: [String] { state.withLock { $0.changes } }

    public func links() throws -> [NetlinkLink] { state.withLock { $0.links } }
    public func addresses() throws -> [NetlinkAddress] { state.withLock { $0.addresses } }
    public func routes() throws -> [NetlinkRoute] { state.withLock { $0.routes } }

    public func setLink(index: Int32, up: Bool?, mtu: UInt32?, master: Int32?, namespace: NetworkNamespace?)
        throws(NetlinkError)
    {
        try change("set link \(index)") { state throws(NetlinkError) in
            guard let position = state.links.firstIndex(where: { $0.index == index }) else {
                throw NetlinkError(operation: "set link \(index)", errno: ENODEV)
            }
            if let up {
                state.links[position].flags = up ? UInt32(IFF_UP) : 0
                state.changes.append("set link \(index) \(up ? "up" : "down")")
            }
            if let mtu {
                state.links[position].mtu = mtu
                state.changes.append("set link \(index) mtu \(mtu)")
            }
            if let master {
                state.links[position].master = master == 0 ? nil : master
                state.changes.append("set link \(index) master \(master)")
            }
        }
    }

    public func createLink(_ name: String, kind: String) throws(NetlinkError) {
        guard state.withLock({ state in !state.links.contains { $0.name == name } }) else {
            throw NetlinkError(operation: "create link \(name)", errno: EEXIST)
        }
        let index = addLink(name)
        state.withLock { state in
            if let position = state.links.firstIndex(where: { $0.index == index }) { state.links[position].kind = kind }
            state.changes.append("create link \(name) \(kind)")
        }
    }

    public func deleteLink(index: Int32) throws(NetlinkError) {
        try change("delete link \(index)") { state throws(NetlinkError) in
            guard state.links.contains(where: { $0.index == index }) else {
                throw NetlinkError(operation: "delete link \(index)", errno: ENODEV)
            }
            state.links.removeAll { $0.index == index }
            state.addresses.removeAll { $0.index == index }
            state.routes.removeAll { $0.outputIndex == index }
            state.changes.append("delete link \(index)")
        }
    }

    public func addAddress(_ address: CIDR, index: Int32) throws(NetlinkError) {
        let operation = "add address \(address) on \(index)"
        try change(operation) { state throws(NetlinkError) in
            guard state.links.contains(where: { $0.index == index }) else {
                throw NetlinkError(operation: operation, errno: ENODEV)
            }
            guard !state.addresses.contains(where: { $0.index == index && $0.address == address.address }) else {
                throw NetlinkError(operation: operation, errno: EEXIST)
            }
            let family: UInt8 = address.isIPv6 ? 10 : 2
            state.addresses.append(
                NetlinkAddress(
                    index: index, family: family, address: address.address, prefixLength: UInt8(address.length)))
            // The connected route the kernel adds with the address.
            state.routes.append(
                NetlinkRoute(
                    family: family, destination: address.network.address, destinationLength: UInt8(address.length),
                    outputIndex: index, preferredSource: address.address, protocolID: 2, scope: 253))
            state.changes.append(operation)
        }
    }

    public func removeAddress(_ address: CIDR, index: Int32) throws(NetlinkError) {
        let operation = "remove address \(address) on \(index)"
        try change(operation) { state throws(NetlinkError) in
            guard state.addresses.contains(where: { $0.index == index && $0.address == address.address }) else {
                throw NetlinkError(operation: operation, errno: EADDRNOTAVAIL)
            }
            state.addresses.removeAll { $0.index == index && $0.address == address.address }
            state.routes.removeAll { $0.outputIndex == index && $0.preferredSource == address.address }
            state.changes.append(operation)
        }
    }

    public func replaceRoute(_ route: RouteSpec) throws(NetlinkError) {
        let operation = "replace route \(route.destination?.description ?? "default")"
        try change(operation) { state throws(NetlinkError) in
            if let index = route.outputIndex, !state.links.contains(where: { $0.index == index }) {
                throw NetlinkError(operation: operation, errno: ENODEV)
            }
            state.routes.removeAll { Self.same($0, route) }
            state.routes.append(
                NetlinkRoute(
                    family: route.family == AF_INET6 ? 10 : 2, destination: route.destination?.network.address,
                    destinationLength: UInt8(route.destination?.length ?? 0), gateway: route.gateway,
                    outputIndex: route.outputIndex, priority: route.metric, table: route.table,
                    protocolID: route.protocolID))
            state.changes.append(operation + (route.gateway.map { " via \($0)" } ?? ""))
        }
    }

    public func removeRoute(_ route: RouteSpec) throws(NetlinkError) {
        let operation = "remove route \(route.destination?.description ?? "default")"
        try change(operation) { state throws(NetlinkError) in
            let matching = state.routes.filter {
                Self.sameDestination($0, route) && (route.gateway == nil || $0.gateway == route.gateway)
                    && (route.metric == nil || $0.priority == route.metric)
                    && (route.outputIndex == nil || $0.outputIndex == route.outputIndex)
            }
            guard let first = matching.first else { throw NetlinkError(operation: operation, errno: ESRCH) }
            state.routes.removeAll { $0 == first }
            state.changes.append(operation)
        }
    }

    private static func sameDestination(_ route: NetlinkRoute, _ spec: RouteSpec) -> Bool {
        route.table == spec.table && route.family == (spec.family == AF_INET6 ? 10 : 2)
            && route.destination == spec.destination?.network.address
            && route.destinationLength == UInt8(spec.destination?.length ?? 0)
    }

    private static func same(_ route: NetlinkRoute, _ spec: RouteSpec) -> Bool {
        sameDestination(route, spec) && route.priority == spec.metric
    }

    private func change(_ operation: String, _ body: (inout State) throws(NetlinkError) -> Void)
        throws(NetlinkError)
    {
        try state.withLock { (state: inout State) throws(NetlinkError) in try body(&state) }
    }
}
