/// Durations as people write them in policies, goals and the CLI — one grammar everywhere:
/// one or more `NUMBER UNIT` parts with no spaces, units `d`, `h`, `m`, `s`, `ms` (any case),
/// each at most once and largest first: `500ms`, `30s`, `2h`, `2H`, `1h30m`, `7d`. Not `1d1d`,
/// `30m1h`, `1 h`, `+5s` or `1.5h`. A field that needs a range (an expiry, a guard window)
/// checks it after parsing and says which.
public enum DurationText {
    /// The units, largest first: a text's units must come in this order.
    static let units: [(name: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Milliseconds in `text`.
    /// - Throws: `AiosError.invalidInput` naming the text when it is not a duration.
    public static func milliseconds(_ text: String) throws -> Int64 {
        var rest = Substring(text)
        var total: Int64 = 0
        var next = 0
        guard !rest.isEmpty else { throw invalid(text) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { throw invalid(text) }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let position = units[next...].firstIndex(where: { $0.name == letters.lowercased() }) else {
                throw invalid(text)
            }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: units[position].milliseconds)
            let (sum, carried) = total.addingReportingOverflow(product)
            guard !overflow, !carried else { throw invalid(text) }
            total = sum
            next = position + 1
        }
        return total
    }

    /// Milliseconds in `text`, which must lie in `range`.
    /// - Throws: `AiosError.invalidInput` naming `field`, the text and the range.
    public static func milliseconds(_ text: String, in range: ClosedRange<Int64>, field: String) throws -> Int64 {
        let value: Int64
        do {
            value = try milliseconds(text)
        } catch var error as AiosError {
            error.location = InputLocation(field: field)
            throw error
        }
        guard range.contains(value) else {
            throw AiosError(
                .invalidInput,
                "\(text) is outside \(format(milliseconds: range.lowerBound))–\(format(milliseconds: range.upperBound))",
                location: InputLocation(field: field))
        }
        return value
    }

    /// `2h`, `1h30m`, `45s`, `250ms`, `1s500ms` for a number of milliseconds (exact: it parses back).
    public static func format(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        var seconds = milliseconds / 1000
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size {
            out += "\(seconds / size)\(unit)"
            seconds %= size
        }
        if seconds > 0 || out.isEmpty { out += "\(seconds)s" }
        if milliseconds % 1000 > 0 { out += "\(milliseconds % 1000)ms" }
        return out
    }

    private static func invalid(_ text: String) -> AiosError {
        AiosError(
            .invalidInput,
            "\"\(text)\" is not a duration (NUMBER UNIT parts, largest first, no spaces; units d, h, m, s, ms: e.g. 500ms, 30s, 15m, 2h, 1h30m, 7d)"
        )
    }
}
