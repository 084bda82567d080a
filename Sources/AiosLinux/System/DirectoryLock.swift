#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on a file, held until the lock is released or the process ends (the
/// kernel drops it with the descriptor, also after SIGKILL), with the holder's PID in the file.
public final class DirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock on `path` (created if missing) without waiting.
    /// - Throws: `SystemCallError` with `EWOULDBLOCK` and the holder's PID in the message when
    ///   another process holds it, or the failed call otherwise.
    public init(path: String) throws(SystemCallError) {
        let descriptor = try SystemCall.check("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            let holder = Self.holder(path: path).map(String.init) ?? "?"
            throw SystemCallError("lock \(path): held by pid \(holder)", errno: code)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The PID the holder of the lock on `path` wrote, if any.
    public static func holder(path: String) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = read(descriptor, &bytes, bytes.count)
        return Int32(String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).filter(\.isNumber))
    }
}
