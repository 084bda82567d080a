import Foundation

/// Rule ids: 16 hex digits (64 bits; 32-bit ones collided at batch scale). Each batch draws one
/// random start and numbers its rules from there, so its ids are consecutive: the store's
/// primary-key index then takes a 100k batch as one run of neighbouring keys instead of 100k
/// scattered ones (random ids made the insert several times slower than the kernel transaction
/// beside it).
/// Two batches collide only if their ranges meet in 2^64 — and the primary key refuses that.
struct RuleIDs: Sendable {
    let start: UInt64

    init() {
        var start: UInt64 = 0
        withUnsafeMutableBytes(of: &start) { arc4random_buf($0.baseAddress!, $0.count) }
        self.start = start
    }

    /// The id at `position` from the start.
    func id(_ position: Int) -> String {
        let id = start &+ UInt64(position)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for position in 0..<16 { buffer[position] = Self.digit(id, position) }
            return 16
        }
    }

    /// `id(position)`'s text, appended to `text`.
    func writeID(_ position: Int, into text: inout [UInt8]) {
        let id = start &+ UInt64(position)
        for digit in 0..<16 { text.append(Self.digit(id, digit)) }
    }

    /// The hex digit at `position` (0 = most significant) of `id`.
    private static func digit(_ id: UInt64, _ position: Int) -> UInt8 {
        let digit = UInt8(truncatingIfNeeded: id >> (60 - 4 * position) & 15)
        return digit < 10 ? 0x30 + digit : 0x57 + digit
    }
}
