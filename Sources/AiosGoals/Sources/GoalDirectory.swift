import AiosCore
import AiosLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where goal documents come from. The directory is one source; a distributed store (etcd) for
/// fleets would be another, feeding the same reconciler.
public protocol GoalSource: Sendable {
    /// For logs (`directory /etc/aios-net/goals.d`).
    var label: String { get }
    /// Feeds `reconciler` until cancelled: every document set now, then every change.
    func run(into reconciler: GoalReconciler) async throws
}

/// The watch directory: `*.yaml` / `*.yml` files, read when closed after writing or renamed in
/// (editors and `mv` are atomic), retracted when deleted or renamed out. Editor droppings
/// (`.swp`, `~`, `.#*`, dotfiles, `*.tmp`) are not goal files. A change is acted on after a
/// debounce of a few ms per file, so one save is one reconcile. The daemon never writes here.
public struct GoalDirectory: GoalSource {
    /// The directory.
    public let path: String
    /// How long a file must be quiet before it is read.
    public let debounce: Duration

    /// A source over `path`.
    public init(path: String, debounce: Duration = .milliseconds(5)) {
        self.path = path
        self.debounce = debounce
    }

    public var label: String { "directory \(path)" }

    /// True for names that are goal files.
    public static func isGoalFile(_ name: String) -> Bool {
        guard !name.hasPrefix("."), !name.hasSuffix("~") else { return false }
        return name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    public func run(into reconciler: GoalReconciler) async throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw AiosError(.unavailable, "cannot create the goals directory \(path): \(error)", cause: error)
        }
        let watch: DirectoryWatch
        do {
            watch = try DirectoryWatch(path: path)
        } catch {
            throw AiosError(.unavailable, "cannot watch \(path): \(error)", cause: error)
        }
        // Watching first, then reading: nothing written in between is missed.
        let stream = watch.changes()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter(Self.isGoalFile)
            .sorted()
        await reconciler.filesChanged(names.map { (full($0), read($0)) })
        await reconciler.sourceSynced(prefix: path + "/", paths: Set(names.map(full)))
        await withTaskCancellationHandler {
            // The watch's batches are merged into `pending` while the reconciler takes the last
            // handover, so a burst of drops becomes a few large batches, not one pass per file.
            let pending = Mutex<[String: Bool]>([:])
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let collector = Task {
                for await batch in stream {
                    if batch.contains(.directoryGone) { break }
                    pending.withLock { pending in
                        for change in batch {
                            switch change {
                            case .written(let name) where Self.isGoalFile(name): pending[name] = true
                            case .created(let name) where Self.isGoalFile(name) && isLink(name): pending[name] = true
                            case .removed(let name) where Self.isGoalFile(name): pending[name] = false
                            default: break
                            }
                        }
                    }
                    wake.yield()
                }
                wake.finish()
            }
            defer { collector.cancel() }
            for await _ in wakes {
                // More of one save (write, then rename) arriving within the debounce joins it.
                try? await Task.sleep(for: debounce)
                await handOver(
                    pending.withLock { taken in
                        defer { taken = [:] }
                        return taken
                    }, to: reconciler)
            }
        } onCancel: {
            watch.stop()
        }
    }

    /// Reads the changed files and gives them to `reconciler`; removed ones are retracted.
    func handOver(_ pending: [String: Bool], to reconciler: GoalReconciler) async {
        var read: [(path: String, content: Result<String, AiosError>)] = []
        for (name, written) in pending.sorted(by: { $0.key < $1.key }) {
            let path = full(name)
            let exists = FileManager.default.fileExists(atPath: path)
            if written, exists {
                read.append((path, self.read(name)))
            } else if !written, !exists {
                await reconciler.fileRemoved(path)
            }
        }
        if !read.isEmpty { await reconciler.filesChanged(read) }
    }

    func full(_ name: String) -> String { "\(path)/\(name)" }

    func isLink(_ name: String) -> Bool {
        var info = stat()
        return lstat(full(name), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// The file's text, or why it is refused: a link out of the directory, not a regular file,
    /// over 1 MiB, binary.
    func read(_ name: String) -> Result<String, AiosError> {
        let file = full(name)
        let refuse = { (reason: String) in
            Result<String, AiosError>.failure(
                AiosError(.invalidInput, "refused: \(reason)", location: InputLocation(file: file)))
        }
        let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        let directory = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(directory + "/") else {
            return refuse("a symbolic link to \(resolved), outside \(path)")
        }
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return refuse("not a regular file")
        }
        guard Int(info.st_size) <= GoalFile.maxBytes else {
            return refuse("\(info.st_size) bytes is over the 1 MiB a goal file may have")
        }
        guard let data = FileManager.default.contents(atPath: resolved) else { return refuse("cannot read it") }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            return refuse("binary content (a goal file is UTF-8 YAML)")
        }
        return .success(text)
    }
}
