/// Rules as the store writes them, one row at a time, each row's texts as UTF-8 bytes into a
/// reused buffer: a planner's batch (no String per field) or plain records.
public protocol FirewallRowSource: Sendable {
    var count: Int { get }
    /// Writes every field of the row at `position` (0..<count) into `row` (its texts emptied and
    /// its state `active`, no end, before each call).
    func write(_ position: Int, into row: inout FirewallRowBytes)
}

/// One row: the texts as bytes (their buffers are reused row to row), the rest as values.
public struct FirewallRowBytes: Sendable {
    public var id: [UInt8] = []
    public var verdict = ""
    public var spec: [UInt8] = []
    public var summary: [UInt8] = []
    public var origin = ""
    public var createdMs: Int64 = 0
    public var expiresMs: Int64?
    public var expiresText: String?
    public var state = "active"
    public var endedMs: Int64?

    public init() {}

    /// Empties the texts (keeping their capacity) and resets the optional fields.
    mutating func clear() {
        id.removeAll(keepingCapacity: true)
        spec.removeAll(keepingCapacity: true)
        summary.removeAll(keepingCapacity: true)
        expiresMs = nil
        expiresText = nil
        state = "active"
        endedMs = nil
    }
}

extension Array: FirewallRowSource where Element == FirewallRuleRecord {
    public func write(_ position: Int, into row: inout FirewallRowBytes) {
        let record = self[position]
        row.id.append(contentsOf: record.id.utf8)
        row.verdict = record.verdict
        row.spec.append(contentsOf: record.specText.utf8)
        row.summary.append(contentsOf: record.summary.utf8)
        row.origin = record.origin
        row.createdMs = record.createdMs
        row.expiresMs = record.expiresMs
        row.expiresText = record.expiresText
        row.state = record.state
        row.endedMs = record.endedMs
    }
}
