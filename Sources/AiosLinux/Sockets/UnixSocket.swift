#if canImport(Glibc)
    import Glibc
#endif

/// The credentials of the process at the other end of a unix socket (SO_PEERCRED).
public struct PeerCredentials: Sendable, Hashable {
    /// Its process id.
    public var pid: Int32
    /// Its effective user id.
    public var uid: UInt32
    /// Its effective group id.
    public var gid: UInt32
}

/// Stream unix sockets: listen, accept, connect, peer credentials, whole reads and writes.
/// Blocking calls; run them on a dedicated thread, not the cooperative pool.
public enum UnixSocket {
    /// Creates a listening socket at `path` with file mode `mode`.
    ///
    /// A stale socket file (no one accepting) is replaced; a live one is an error, so two daemons
    /// never share a socket.
    /// - Throws: `SystemCallError` naming the failed call (`EADDRINUSE` for a live socket).
    public static func listen(path: String, mode: UInt32 = 0o666, backlog: Int32 = 64) throws(SystemCallError) -> Int32
    {
        if let probe = try? connect(path: path) {
            close(probe)
            throw SystemCallError("listen on \(path): another process is serving it", errno: EADDRINUSE)
        }
        unlink(path)
        let fd = try SystemCall.check("socket") {
            socket(AF_UNIX, SocketType.stream | SocketType.cloexec, 0)
        }
        do {
            try UnixSocketAddress.with(path) { address, length throws(SystemCallError) in
                try SystemCall.check("bind \(path)") { bind(fd, address, length) }
            }
            try SystemCall.check("chmod \(path)") { chmod(path, mode_t(mode)) }
            try SystemCall.check("listen \(path)") { Glibc.listen(fd, backlog) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Accepts one connection.
    public static func accept(_ listener: Int32) throws(SystemCallError) -> Int32 {
        let fd = try SystemCall.check("accept") { Glibc.accept(listener, nil, nil) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Connects to the socket at `path`.
    public static func connect(path: String) throws(SystemCallError) -> Int32 {
        let fd = try SystemCall.check("socket") {
            socket(AF_UNIX, SocketType.stream | SocketType.cloexec, 0)
        }
        do {
            try UnixSocketAddress.with(path) { address, length throws(SystemCallError) in
                try SystemCall.check("connect \(path)") { Glibc.connect(fd, address, length) }
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// The peer's pid, uid and gid, as the kernel recorded them at connect time.
    public static func peerCredentials(_ fd: Int32) throws(SystemCallError) -> PeerCredentials {
        var raw = (Int32(0), UInt32(0), UInt32(0))  // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var length = socklen_t(MemoryLayout.size(ofValue: raw))
        try SystemCall.check("getsockopt SO_PEERCRED") { getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &raw, &length) }
        return PeerCredentials(pid: raw.0, uid: raw.1, gid: raw.2)
    }

    /// Sets send and receive timeouts.
    public static func setTimeout(_ fd: Int32, seconds: Int) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let written = try SystemCall.check("write") {
                bytes.withUnsafeBytes { raw in
                    send(fd, raw.baseAddress! + start, raw.count - start, Int32(MSG_NOSIGNAL))
                }
            }
            offset += written
        }
    }
}

/// Reads newline-terminated lines from a file descriptor.
public struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let limit: Int

    /// Reads from `fd`; a line longer than `limit` bytes is an error.
    public init(fd: Int32, limit: Int = 64 << 20) {
        self.fd = fd
        self.limit = limit
    }

    /// The next line without its newline; nil at end of stream.
    public mutating func next() throws(SystemCallError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        // Bytes already searched for a newline: a multi-megabyte line (a 100k-entry batch) is
        // searched once, not once per read.
        var searched = 0
        while true {
            if let newline = buffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            searched = buffer.count
            if buffer.count > limit { throw SystemCallError("read: line longer than \(limit) bytes", errno: EMSGSIZE) }
            let count = try SystemCall.check("read") {
                chunk.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            }
            if count == 0 {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return buffer
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
