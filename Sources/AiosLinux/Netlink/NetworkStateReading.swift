/// Reads the network state of one namespace. `RouteNetlink` is the real one; tests use fakes.
public protocol NetworkStateReading: Sendable {
    /// Every link.
    func links() throws -> [NetlinkLink]
    /// Every address (both families).
    func addresses() throws -> [NetlinkAddress]
    /// Every route in every table (both families).
    func routes() throws -> [NetlinkRoute]
}

extension RouteNetlink: NetworkStateReading {
    public func addresses() throws -> [NetlinkAddress] { try addresses(family: 0) }
    public func routes() throws -> [NetlinkRoute] { try routes(family: 0) }
}
