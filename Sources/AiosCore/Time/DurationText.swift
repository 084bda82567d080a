/// Durations as people write them in policies, goals and the CLI: `500ms`, `30s`, `2h`, `1h30m`, `7d`.
public enum DurationText {
    /// Milliseconds in `text`.
    /// - Throws: `AiosError.invalidInput` naming the text when it is not a duration.
    public static func milliseconds(_ text: String) throws -> Int64 {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingWhitespace())
        var total: Int64 = 0
        guard !rest.isEmpty else { throw invalid(text) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Int64(digits) else { throw invalid(text) }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == letters }) else { throw invalid(text) }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { throw invalid(text) }
            total += product
        }
        return total
    }

    /// `2h`, `1h30m`, `45s`, `250ms` for a number of milliseconds.
    public static func format(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        var seconds = milliseconds / 1000
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size {
            out += "\(seconds / size)\(unit)"
            seconds %= size
        }
        if seconds > 0 || out.isEmpty { out += "\(seconds)s" }
        return out
    }

    private static func invalid(_ text: String) -> AiosError {
        AiosError(.invalidInput, "\"\(text)\" is not a duration (use e.g. 500ms, 30s, 15m, 2h, 1h30m, 7d)")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
