import AiosCore

/// Names as callers write them, normalised the way lists are (lowercase, no trailing dot,
/// punycode), with a clear error otherwise.
enum DNSName {
    /// Normalises `text`.
    /// - Throws: `AiosError.invalidInput` naming `field`.
    static func normalise(_ text: String, field: String, allowSingleLabel: Bool = false) throws -> String {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBufferPointer { BlocklistParser.normalise($0) }
        switch result {
        case .valid(let name): return name
        case .local where allowSingleLabel: return text.lowercased()
        case .local:
            throw AiosError(.invalidInput, "\(text) is a local host name", location: InputLocation(field: field))
        case .invalid(let reason):
            if allowSingleLabel, reason.hasPrefix("a single label"),
                text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
            {
                return text.lowercased()
            }
            throw AiosError(
                .invalidInput, "\(text) is not a valid name: \(reason)", location: InputLocation(field: field))
        }
    }

    /// The names of a `{"name"}` or `{"names": [...]}` input.
    static func list(name: String?, names: [String]?) throws -> [String] {
        if name != nil, names != nil {
            throw AiosError(
                .invalidInput, "give name or names, not both (name would be ignored)",
                location: InputLocation(field: "input.name"))
        }
        if let names, !names.isEmpty {
            return try names.enumerated().map { try normalise($1, field: "input.names[\($0)]") }
        }
        guard let name else {
            throw AiosError(.invalidInput, "give name or names", location: InputLocation(field: "input.name"))
        }
        return [try normalise(name, field: "input.name")]
    }

    /// The name and its parents, most specific first (`a.b.example` → itself, `b.example`, `example`... with ≥ 2 labels).
    static func suffixes(_ name: String) -> [String] { [name] + ZoneSet.parents(of: name).map(String.init) }
}
