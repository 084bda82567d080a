#if canImport(Glibc)
    import Glibc
#endif

/// A unix socket address built from a path: the one place a `sockaddr_un` is filled in for
/// `bind`, `connect` and `sendto`. A path starting with `@` names the abstract namespace (as
/// `$NOTIFY_SOCKET` does): a leading NUL, and a length that counts only the name.
enum UnixSocketAddress {
    /// Calls `body` with the socket address of `path` and its length.
    /// - Throws: `ENAMETOOLONG` when the path does not fit.
    @discardableResult
    static func with<R>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemCallError) -> R
    ) throws(SystemCallError) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemCallError("socket path \(path) is too long", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length =
            abstract ? MemoryLayout<sa_family_t>.size + bytes.count : MemoryLayout<sockaddr_un>.size
        let result: Result<R, SystemCallError> = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                do throws(SystemCallError) { return .success(try body(pointer, socklen_t(length))) } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }
}
