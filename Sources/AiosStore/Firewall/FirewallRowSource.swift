/// A batch of firewall rules as the store writes them: all active, of one verdict, origin and
/// creation time; each row's id, spec and summary written as UTF-8 bytes into a reused buffer.
public protocol FirewallRowSource: Sendable {
    var count: Int { get }
    var verdict: String { get }
    var origin: String { get }
    var createdMs: Int64 { get }
    /// Writes the row at `position` (0..<count) into `row` (cleared before each call).
    func write(_ position: Int, into row: inout FirewallRowBytes)
}

/// One row's varying fields: the texts as bytes (their buffers are reused row to row).
public struct FirewallRowBytes: Sendable {
    public var id: [UInt8] = []
    public var spec: [UInt8] = []
    public var summary: [UInt8] = []
    public var expiresMs: Int64?
    public var expiresText: String?

    public init() {}

    /// Empties the row, keeping the buffers' capacity.
    mutating func clear() {
        id.removeAll(keepingCapacity: true)
        spec.removeAll(keepingCapacity: true)
        summary.removeAll(keepingCapacity: true)
        expiresMs = nil
        expiresText = nil
    }
}
