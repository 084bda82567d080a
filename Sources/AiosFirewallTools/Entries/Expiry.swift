import AiosCore
import Foundation

/// Expiry texts: a duration from now, or an RFC 3339 time.
enum Expiry {
    static func absolute(_ text: String, now: Int64, limit: Int64?, field: String) throws -> Int64 {
        let expires: Int64
        if let milliseconds = try? DurationText.milliseconds(text) {
            guard milliseconds > 0 else {
                throw AiosError(.invalidInput, "expiry must be in the future", location: InputLocation(field: field))
            }
            expires = now + milliseconds
        } else {
            guard let absolute = RFC3339.milliseconds(text) else {
                throw AiosError(
                    .invalidInput,
                    "\"\(text)\" is neither a duration (2h, 30m) nor an RFC 3339 time (2026-11-24T18:00:00Z)",
                    location: InputLocation(field: field))
            }
            expires = absolute
            guard expires > now else {
                throw AiosError(.invalidInput, "\(text) is in the past", location: InputLocation(field: field))
            }
        }
        if let limit, expires - now > limit {
            throw AiosError(
                .invalidInput,
                "expiry \(text) is over the policy's maximum of \(DurationText.format(milliseconds: limit)) (limits.max_expiry)",
                location: InputLocation(field: field))
        }
        return expires
    }
}
