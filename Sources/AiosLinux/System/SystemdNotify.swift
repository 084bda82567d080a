#if canImport(Glibc)
    import Glibc
#endif

/// sd_notify without libsystemd: one datagram to `$NOTIFY_SOCKET` (a path, or `@name` for the
/// abstract namespace). Does nothing when the variable is unset (not started by systemd).
public enum SystemdNotify {
    /// Sends `state` (e.g. `READY=1`, `STOPPING=1`).
    /// - Returns: true when a message was sent.
    @discardableResult
    public static func send(_ state: String, environment: [String: String]) -> Bool {
        guard let target = environment["NOTIFY_SOCKET"], !target.isEmpty else { return false }
        let fd = socket(AF_UNIX, SocketType.datagram | SocketType.cloexec, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = try? UnixSocketAddress.with(target) { address, length in
            sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), address, length)
        }
        return sent == message.count
    }
}
