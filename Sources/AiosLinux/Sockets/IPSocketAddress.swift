#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 socket address built from an address's bytes and a port: the one place a
/// `sockaddr_in`/`sockaddr_in6` is filled in for `bind`, `connect` and `sendto`.
public enum IPSocketAddress {
    /// The address family of `bytes` (4 bytes: AF_INET, else AF_INET6).
    public static func family(_ bytes: [UInt8]) -> Int32 { bytes.count == 4 ? AF_INET : AF_INET6 }

    /// Calls `body` with the socket address of `bytes` and `port` and its length. Internal, so
    /// no public signature carries Glibc's types; other modules call `send`.
    static func with<R>(_ bytes: [UInt8], port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if bytes.count == 4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &address.sin_addr) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        withUnsafeMutableBytes(of: &address.sin6_addr) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }

    /// `sendto` of `packet` on `fd` to `address` (its bytes) and `port`.
    /// - Returns: what `sendto` returned (the bytes sent, or -1 with `errno` set).
    public static func send(_ fd: Int32, _ packet: [UInt8], to address: [UInt8], port: Int) -> Int {
        with(address, port: port) { sendto(fd, packet, packet.count, 0, $0, $1) }
    }
}
