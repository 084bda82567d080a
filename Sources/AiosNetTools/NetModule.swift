public import AiosCore
public import AiosLinux

/// The `net.*` tools: interfaces and routes now; addressing, DHCP, probes and WireGuard later.
public struct NetModule: ToolModule {
    public static let namespace = "net"
    let reader: any NetworkStateReading

    /// A module reading the daemon's own network namespace over rtnetlink.
    public init(reader: any NetworkStateReading = RouteNetlink()) {
        self.reader = reader
    }

    public func register(in registry: inout ToolRegistry) throws {
        try registry.add(InterfacesTool(reader: reader))
        try registry.add(RoutesTool(reader: reader))
        try registry.add(TCPProbeTool())
    }
}

/// Wraps an adapter failure reading kernel state.
func kernelError(_ what: String, _ error: any Error) -> AiosError {
    AiosError(.kernel, "cannot read \(what) from the kernel: \(error)", cause: error)
}
