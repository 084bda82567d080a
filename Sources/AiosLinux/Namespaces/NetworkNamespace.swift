internal import CSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace named by a file: `/run/netns/NAME` (what `ip netns add` makes) or
/// `/proc/PID/ns/net` (a process's). Used to open sockets inside another namespace and to move
/// links into it.
public struct NetworkNamespace: Sendable, Hashable, CustomStringConvertible {
    /// The namespace file.
    public var path: String

    /// A namespace by file path.
    public init(path: String) { self.path = path }

    /// The namespace `ip netns add NAME` made.
    public static func named(_ name: String) -> NetworkNamespace { NetworkNamespace(path: "/run/netns/\(name)") }

    /// The namespace of process `pid`.
    public static func ofProcess(_ pid: Int32) -> NetworkNamespace { NetworkNamespace(path: "/proc/\(pid)/ns/net") }

    public var description: String { path }

    /// Opens the namespace file (for `IFLA_NET_NS_FD` and `setns`).
    /// - Throws: `SystemCallError` (`ENOENT` when there is no such namespace).
    public func open() throws(SystemCallError) -> Int32 {
        try SystemCall.check("open \(path)") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
    }

    /// The namespace's inode number (two paths name the same namespace when these are equal).
    public func inode() -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// Runs `body` on a fresh thread that has joined this namespace, and waits for it. The thread
    /// ends afterwards, so its namespace change dies with it; sockets opened inside stay bound to
    /// the namespace. Never changes the namespace of a Swift concurrency thread.
    public func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let fd = try open()
        defer { close(fd) }
        let box = ThreadResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            if aios_setns_net(fd) != 0 {
                box.result = .failure(SystemCallError("setns \(path)", errno: errno))
                return
            }
            box.result = Result { try body() }
        }
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

/// Carries a result from the namespace thread back; written before the semaphore is signalled.
private final class ThreadResult<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
