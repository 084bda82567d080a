public import AiosCore
public import Logging

/// A log handler that passes every message and metadata value through the one redaction function
/// before the wrapped handler writes it.
public struct RedactingLogHandler: LogHandler {
    private var inner: any LogHandler
    private let redactor: Redactor

    /// Wraps `inner`.
    public init(wrapping inner: any LogHandler, redactor: Redactor) {
        self.inner = inner
        self.redactor = redactor
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var cleaned = event
        cleaned.message = "\(redactor.redact(event.message.description))"
        cleaned.metadata = event.metadata?.mapValues { Logger.Metadata.Value.string(redactor.redact("\($0)")) }
        cleaned.error = nil
        inner.log(event: cleaned)
    }
}
