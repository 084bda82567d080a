public import Logging
import Synchronization

/// Keeps every log line written through it, so tests can scan logs (e.g. for secrets).
public final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// Creates an empty capture.
    public init() {}

    /// Every line so far.
    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A handler writing into this capture.
    public func handler(label: String = "test") -> any LogHandler { CapturingHandler(log: self) }

    /// A logger writing into this capture (through `wrap`, e.g. a redacting handler).
    public func logger(wrap: (any LogHandler) -> any LogHandler = { $0 }) -> Logger {
        Logger(label: "test", factory: { _ in wrap(CapturingHandler(log: self)) })
    }
}

struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let meta = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        log.append("\(event.level) \(event.message) \(meta)")
    }
}
