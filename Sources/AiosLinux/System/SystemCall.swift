#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: which call, which errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    /// The call that failed (`bind`, `mnl_socket_recvfrom`).
    public var operation: String
    /// The errno value.
    public var errno: Int32

    /// Creates an error.
    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The one errno wrapper: runs a call that returns -1 (or a negative value) on failure, retries
/// `EINTR`, and throws `SystemCallError` naming the call otherwise.
public enum SystemCall {
    /// Runs `body`, retrying on `EINTR`.
    @discardableResult
    public static func check<T: BinaryInteger>(_ operation: String, _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SystemCallError(operation, errno: code)
        }
    }
}
