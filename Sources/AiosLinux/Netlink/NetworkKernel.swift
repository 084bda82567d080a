/// What the `net.*` tools ask of the kernel's rtnetlink, as one small interface: the state
/// (`NetworkStateReading`) and the changes — links' state, MTU and master, links made and
/// deleted, addresses, routes. `RouteNetlink` is the real one; unit tests use
/// `AiosTesting.FakeNetworkKernel`, which keeps links, addresses and routes in memory.
public protocol NetworkKernel: NetworkStateReading {
    /// Changes a link; nil fields are not touched.
    func setLink(index: Int32, up: Bool?, mtu: UInt32?, master: Int32?, namespace: NetworkNamespace?)
        throws(NetlinkError)
    /// Makes a link of `kind` (`bridge`, `dummy`, `wireguard`, …).
    func createLink(_ name: String, kind: String) throws(NetlinkError)
    /// Deletes a link.
    func deleteLink(index: Int32) throws(NetlinkError)
    /// Adds an address to a link.
    func addAddress(_ address: CIDR, index: Int32) throws(NetlinkError)
    /// Removes an address from a link.
    func removeAddress(_ address: CIDR, index: Int32) throws(NetlinkError)
    /// Adds a route, replacing one with the same destination, table and metric.
    func replaceRoute(_ route: RouteSpec) throws(NetlinkError)
    /// Removes a route.
    func removeRoute(_ route: RouteSpec) throws(NetlinkError)
}

extension NetworkKernel {
    /// Changes a link's state, MTU or master (in its namespace).
    public func setLink(index: Int32, up: Bool? = nil, mtu: UInt32? = nil, master: Int32? = nil)
        throws(NetlinkError)
    {
        try setLink(index: index, up: up, mtu: mtu, master: master, namespace: nil)
    }
}

extension RouteNetlink: NetworkKernel {}
