import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A directory's entries as they change, from inotify (no polling): a file closed after writing
/// or renamed into the directory is `written`; deleted or renamed out, `removed`; a symbolic
/// link (or any entry) made, `created`. Events are read on a thread of their own, which sleeps in `poll` until
/// the kernel has one (or `stop` is called).
public final class DirectoryWatch: Sendable {
    /// One change to an entry of the directory.
    public enum Change: Sendable, Hashable {
        /// Closed after writing, or renamed in.
        case written(String)
        /// Deleted, or renamed out.
        case removed(String)
        /// An entry was made (a file not yet written, or a symbolic link: links have no close-write).
        case created(String)
        /// The directory itself was removed or moved: no more events.
        case directoryGone
    }

    /// The directory.
    public let path: String
    private let inotify: Int32
    private let wake: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)

    /// Starts watching `path`.
    /// - Throws: `SystemCallError` when inotify or the watch cannot be set up (no such directory).
    public init(path: String) throws(SystemCallError) {
        self.path = path
        let fd = try SystemCall.check("inotify_init1") { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        let mask = UInt32(
            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)
        do {
            try SystemCall.check("inotify_add_watch \(path)") { inotify_add_watch(fd, path, mask) }
        } catch {
            close(fd)
            throw error
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            let code = errno
            close(fd)
            throw SystemCallError("pipe2", errno: code)
        }
        for end in pipeFDs { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        inotify = fd
        wake = (pipeFDs[0], pipeFDs[1])
    }

    deinit {
        close(inotify)
        close(wake.read)
        close(wake.write)
    }

    /// The changes, in batches as the kernel delivers them, until `stop` (or the directory goes).
    public func changes() -> AsyncStream<[Change]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Change].self)
        let thread = Thread { [self] in
            readLoop(continuation)
            continuation.finish()
        }
        thread.start()
        return stream
    }

    /// Ends the stream.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    private func readLoop(_ continuation: AsyncStream<[Change]>.Continuation) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped.load(ordering: .acquiring) {
            var fds = [
                pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return
            }
            let changes = Self.decode(buffer, count: count)
            if !changes.isEmpty { continuation.yield(changes) }
            if changes.contains(.directoryGone) { return }
        }
    }

    /// The changes in `count` bytes of `inotify_event` records.
    static func decode(_ buffer: [UInt8], count: Int) -> [Change] {
        var changes: [Change] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= count {
            let (mask, length) = buffer.withUnsafeBytes { raw -> (UInt32, Int) in
                let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                return (event.mask, Int(event.len))
            }
            let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            offset += header + length
            if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                changes.append(.directoryGone)
            } else if mask & UInt32(IN_ISDIR) != 0 || name.isEmpty {
                continue
            } else if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                changes.append(.written(name))
            } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                changes.append(.removed(name))
            } else if mask & UInt32(IN_CREATE) != 0 {
                changes.append(.created(name))
            }
        }
        return changes
    }
}
