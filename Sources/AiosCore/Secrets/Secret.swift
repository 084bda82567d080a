/// A value that must never be printed, logged, audited or sent to the LLM.
///
/// Its description, debug description, reflection and encoding are all `<redacted>`; the real value
/// is only reachable through `reveal()`, which reviewers can search for.
public struct Secret<Value: Sendable>: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: Value

    /// Wraps a secret value.
    public init(_ value: Value) { self.value = value }

    /// The secret value. Every call site is a place a secret leaves its box: keep them few.
    public func reveal() -> Value { value }

    public var description: String { Redactor.placeholder }
    public var debugDescription: String { Redactor.placeholder }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: Encodable {
    /// Encodes as `<redacted>`: outputs and events never carry the value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Redactor.placeholder)
    }
}

extension Secret: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        value = try Value(from: decoder)
    }
}
