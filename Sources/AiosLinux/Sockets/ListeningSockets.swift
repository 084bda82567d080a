#if canImport(Glibc)
    import Glibc
#endif

/// A DNS server's listening pair on one address and port: a UDP socket and a TCP socket (bound,
/// listening), held by the daemon and handed to each resolver process it starts (systemd's
/// socket activation, `ChildProcess.spawn(_:passing:)`), so that a replacement process serves
/// the very sockets the old one did. Closed when the value is released.
public final class ListeningSockets: Sendable {
    /// The UDP socket.
    public let udp: Int32
    /// The TCP socket.
    public let tcp: Int32
    /// What they are bound to.
    public let address: String
    public let port: Int

    /// Binds both on `address` (an IPv4 or IPv6 literal) and `port`.
    /// - Throws: `SystemCallError` naming the call (`EADDRINUSE` when another server has the port).
    public init(address: String, port: Int) throws(SystemCallError) {
        guard let bytes = IPAddressText.parse(address) else { throw SystemCallError("parse \(address)", errno: EINVAL) }
        self.address = address
        self.port = port
        udp = try Self.bound(bytes, port: port, type: SocketType.datagram)
        do {
            tcp = try Self.bound(bytes, port: port, type: SocketType.stream)
            try SystemCall.check("listen \(address) port \(port)") { listen(tcp, 256) }
        } catch {
            close(udp)
            throw error
        }
    }

    deinit {
        close(udp)
        close(tcp)
    }

    private static func bound(_ bytes: [UInt8], port: Int, type: Int32) throws(SystemCallError) -> Int32 {
        let family = IPSocketAddress.family(bytes)
        let fd = try SystemCall.check("socket") { socket(family, type | SocketType.cloexec, 0) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = IPSocketAddress.with(bytes, port: port) { bind(fd, $0, $1) }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw SystemCallError("bind port \(port)", errno: code)
        }
        return fd
    }
}
