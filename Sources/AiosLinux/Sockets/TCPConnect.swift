#if canImport(Glibc)
    import Glibc
#endif

/// A TCP connect with a deadline (non-blocking connect + poll). Blocking: call through `Offload`.
public enum TCPConnect {
    /// Connects to `address` (IPv4 or IPv6 literal) and `port`, then closes.
    /// - Returns: the time the handshake took, in milliseconds.
    /// - Throws: `SystemCallError` (`ETIMEDOUT` when no answer within `timeoutMs`, `ECONNREFUSED`, …).
    public static func probe(address: String, port: Int, timeoutMs: Int) throws(SystemCallError) -> Double {
        guard let bytes = IPAddressText.parse(address) else { throw SystemCallError("parse \(address)", errno: EINVAL) }
        let family = IPSocketAddress.family(bytes)
        let fd = try SystemCall.check("socket") {
            socket(
                family, SocketType.stream | SocketType.nonblock | SocketType.cloexec, 0)
        }
        defer { close(fd) }
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let result = IPSocketAddress.with(bytes, port: port) { connect(fd, $0, $1) }
        if result != 0 {
            guard errno == EINPROGRESS else { throw SystemCallError("connect \(address) port \(port)", errno: errno) }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = try SystemCall.check("poll") { poll(&descriptor, 1, Int32(timeoutMs)) }
            guard ready > 0 else { throw SystemCallError("connect \(address) port \(port)", errno: ETIMEDOUT) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw SystemCallError("connect \(address) port \(port)", errno: error) }
        }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1_000_000
    }
}
