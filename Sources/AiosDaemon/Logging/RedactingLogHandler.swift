public import AiosCore
public import Logging

/// A log handler that passes every message and metadata value through the one redaction function
/// before the wrapped handler writes it, and escapes control characters (a newline in a comment
/// would otherwise start a log line of the caller's writing).
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
        cleaned.message = "\(Self.escaped(redactor.redact(event.message.description)))"
        cleaned.metadata = event.metadata?.mapValues {
            Logger.Metadata.Value.string(Self.escaped(redactor.redact("\($0)")))
        }
        cleaned.error = nil
        inner.log(event: cleaned)
    }

    /// `text` with every control character written as an escape: `\n`, `\r`, `\t`, `\0`, else `\u{1b}`.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.append(scalar)
                continue
            }
            let escape =
                switch scalar {
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                case "\0": "\\0"
                default: "\\u{\(String(scalar.value, radix: 16))}"
                }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
