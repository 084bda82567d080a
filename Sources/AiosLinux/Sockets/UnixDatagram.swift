#if canImport(Glibc)
    import Glibc
#endif

/// Unix datagram sockets: one message per event, no connection, never blocking the sender for
/// long (a DHCP hook must not stall dhcpcd when the daemon is busy or gone).
public enum UnixDatagram {
    /// Binds a datagram socket at `path` (a stale file is replaced), readable by root only.
    public static func bind(path: String) throws(SystemCallError) -> Int32 {
        unlink(path)
        let fd = try SystemCall.check("socket(AF_UNIX, SOCK_DGRAM)") {
            socket(AF_UNIX, SocketType.datagram | SocketType.cloexec, 0)
        }
        do {
            try UnixSocketAddress.with(path) { address, length throws(SystemCallError) in
                try SystemCall.check("bind \(path)") { Glibc.bind(fd, address, length) }
            }
            try SystemCall.check("chmod \(path)") { chmod(path, 0o600) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Waits up to `timeoutMs` (-1: forever) for one message.
    /// - Returns: the message, or nil on timeout.
    public static func receive(_ fd: Int32, timeoutMs: Int32) throws(SystemCallError) -> [UInt8]? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = try SystemCall.check("poll") { poll(&descriptor, 1, timeoutMs) }
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = try SystemCall.check("recv") { recv(fd, &buffer, buffer.count, 0) }
        return Array(buffer[0..<count])
    }

    /// Sends one message to the socket at `path` without blocking.
    public static func send(_ bytes: [UInt8], to path: String) throws(SystemCallError) {
        let fd = try SystemCall.check("socket(AF_UNIX, SOCK_DGRAM)") {
            socket(
                AF_UNIX, SocketType.datagram | SocketType.cloexec | SocketType.nonblock, 0)
        }
        defer { close(fd) }
        try UnixSocketAddress.with(path) { address, length throws(SystemCallError) in
            try SystemCall.check("sendto \(path)") { sendto(fd, bytes, bytes.count, 0, address, length) }
        }
    }
}
