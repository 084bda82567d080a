import AiosCore

/// A batch's rows as one blob: what `Store.journalFirewallRules` commits instead of a row per rule
/// (one write of a few hundred KB instead of 1,000 inserts into three b-trees), and what
/// `Store.settleFirewallRules` reads back, as a `FirewallRowSource`, to write them out as rows.
///
/// Layout, little-endian: the format byte (1), the row count (u32), then per row its fields in
/// `FirewallRowBytes` order — texts as a u32 length and their bytes (`0xFFFFFFFF` for nil),
/// numbers as i64 (an optional one after a presence byte).
struct FirewallRowJournal: FirewallRowSource {
    static let format: UInt8 = 1
    private static let absent = UInt32.max

    private let blob: [UInt8]
    /// Where each row starts.
    private let starts: [Int]

    var count: Int { starts.count }

    /// The blob of every row of `rows`.
    static func encode(_ rows: some FirewallRowSource) -> [UInt8] {
        var blob: [UInt8] = [format]
        append(UInt32(rows.count), to: &blob)
        var row = FirewallRowBytes()
        for position in 0..<rows.count {
            row.clear()
            rows.write(position, into: &row)
            text(row.id, to: &blob)
            text(Array(row.verdict.utf8), to: &blob)
            text(row.spec, to: &blob)
            text(row.summary, to: &blob)
            text(Array(row.origin.utf8), to: &blob)
            append(UInt64(bitPattern: row.createdMs), to: &blob)
            optional(row.expiresMs, to: &blob)
            text(row.expiresText.map { Array($0.utf8) }, to: &blob)
            text(Array(row.state.utf8), to: &blob)
            optional(row.endedMs, to: &blob)
        }
        return blob
    }

    /// Reads `blob` (its rows' starts, once).
    /// - Throws: `AiosError` (`.failed`) when it is not a journal of this format, or cut short.
    init(_ blob: [UInt8]) throws {
        var reader = Reader(blob: blob, at: 0)
        guard try reader.byte() == Self.format else {
            throw AiosError(.failed, "a firewall rule journal entry has an unknown format (\(blob.first ?? 0))")
        }
        let count = Int(try reader.u32())
        var starts: [Int] = []
        starts.reserveCapacity(count)
        for _ in 0..<count {
            starts.append(reader.at)
            for _ in 0..<5 { try reader.skipText() }
            try reader.skip(8)
            try reader.skipOptional()
            try reader.skipText()
            try reader.skipText()
            try reader.skipOptional()
        }
        self.blob = blob
        self.starts = starts
    }

    func write(_ position: Int, into row: inout FirewallRowBytes) {
        // The starts were found by reading every field within the blob: these reads cannot fail.
        var reader = Reader(blob: blob, at: starts[position])
        reader.text(into: &row.id)
        row.verdict = reader.string() ?? ""
        reader.text(into: &row.spec)
        reader.text(into: &row.summary)
        row.origin = reader.string() ?? ""
        row.createdMs = Int64(bitPattern: (try? reader.u64()) ?? 0)
        row.expiresMs = reader.optional()
        row.expiresText = reader.string()
        row.state = reader.string() ?? "active"
        row.endedMs = reader.optional()
    }

    private static func append<Value: FixedWidthInteger>(_ value: Value, to blob: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { blob.append(contentsOf: $0) }
    }

    private static func text(_ bytes: [UInt8]?, to blob: inout [UInt8]) {
        guard let bytes else { return append(absent, to: &blob) }
        append(UInt32(bytes.count), to: &blob)
        blob.append(contentsOf: bytes)
    }

    private static func optional(_ value: Int64?, to blob: inout [UInt8]) {
        blob.append(value == nil ? 0 : 1)
        if let value { append(UInt64(bitPattern: value), to: &blob) }
    }

    /// Bounds-checked reads from the blob.
    private struct Reader {
        let blob: [UInt8]
        var at: Int

        mutating func take(_ count: Int) throws -> Range<Int> {
            guard count >= 0, blob.count - at >= count else {
                throw AiosError(.failed, "a firewall rule journal entry is cut short at byte \(at) of \(blob.count)")
            }
            defer { at += count }
            return at..<(at + count)
        }

        mutating func byte() throws -> UInt8 { blob[try take(1).lowerBound] }

        mutating func u32() throws -> UInt32 {
            let range = try take(4)
            return blob[range].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func u64() throws -> UInt64 {
            let range = try take(8)
            return blob[range].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func skip(_ count: Int) throws { _ = try take(count) }

        mutating func skipText() throws {
            let length = try u32()
            if length != absent { try skip(Int(length)) }
        }

        mutating func skipOptional() throws {
            if try byte() == 1 { try skip(8) }
        }

        /// A text's bytes appended to `bytes` (nothing for nil).
        mutating func text(into bytes: inout [UInt8]) {
            guard let length = try? u32(), length != absent, let range = try? take(Int(length)) else { return }
            bytes.append(contentsOf: blob[range])
        }

        mutating func string() -> String? {
            guard let length = try? u32(), length != absent, let range = try? take(Int(length)) else { return nil }
            return String(decoding: blob[range], as: UTF8.self)
        }

        mutating func optional() -> Int64? {
            guard (try? byte()) == 1, let value = try? u64() else { return nil }
            return Int64(bitPattern: value)
        }
    }
}
