import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces a file atomically: the new content goes to a temporary file in the same directory,
/// is flushed to disk, and is renamed over the old one (then the directory is flushed). A crash at
/// any point leaves either the old file or the new one, never a mix.
public enum AtomicFile {
    /// Writes `bytes` to `path` with file mode `mode`.
    /// - Parameters:
    ///   - beforeRename: called after the temporary file is durable, before the rename (tests use
    ///     it to die at the worst moment).
    ///   - durable: fsync before the rename (and the directory after it). A file regenerated
    ///     from the store at every start (the resolver's 40 MB include) can skip it: the rename
    ///     is still atomic, and a power loss costs a rewrite, not state.
    /// - Throws: `SystemCallError` naming the failed step; the old file is untouched then.
    public static func write(
        _ bytes: [UInt8], to path: String, mode: UInt32 = 0o644, durable: Bool = true,
        beforeRename: (() -> Void)? = nil
    ) throws(SystemCallError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            "\(directory)/.\((path as NSString).lastPathComponent).aios-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try SystemCall.check("open \(temporary)") {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        }
        do throws(SystemCallError) {
            var written = 0
            while written < bytes.count {
                let offset = written
                let count = try SystemCall.check("write \(temporary)") {
                    bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                }
                written += count
            }
            _ = fchmod(fd, mode_t(mode))
            if durable { try SystemCall.check("fsync \(temporary)") { fsync(fd) } }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        beforeRename?()
        do {
            try SystemCall.check("rename \(temporary) to \(path)") { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
        let directoryFD = durable ? open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Writes `text` (UTF-8) to `path`.
    public static func write(_ text: String, to path: String, mode: UInt32 = 0o644) throws(SystemCallError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}
