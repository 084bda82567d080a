import Foundation

/// RFC 3339 times as people write them in expiries (`2026-12-24T18:00:00Z`, fractions allowed):
/// one reading and one writing for the firewall's and the goals' `expires`.
public enum RFC3339 {
    /// Epoch ms of `text`, or nil when it is not an RFC 3339 time.
    public static func milliseconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) ?? fractional.date(from: text) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    /// `ms` in UTC, to the second (rounded down).
    public static func text(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(
            from: Date(timeIntervalSince1970: Double(ms.quotientAndRemainder(dividingBy: 1000).quotient)))
    }
}
