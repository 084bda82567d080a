/// A decoded duration text (`30s`).
struct DurationValue: Decodable {
    var milliseconds: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            milliseconds = try DurationText.milliseconds(text)
        } catch let error as AiosError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }
}

extension KeyedDecodingContainer {
    /// The duration at `key` (nil when absent), refused outside `range` with the key's path.
    func duration(_ key: Key, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let value = try decodeIfPresent(DurationValue.self, forKey: key)?.milliseconds else { return nil }
        guard range.contains(value) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription:
                    "\(DurationText.format(milliseconds: value)) is outside the allowed \(DurationText.format(milliseconds: range.lowerBound))–\(DurationText.format(milliseconds: range.upperBound))"
            )
        }
        return value
    }
}

/// A field that takes one value or a list.
struct OneOrMany<T: Decodable>: Decodable {
    var values: [T]

    init(from decoder: any Decoder) throws {
        if let list = try? [T](from: decoder) {
            values = list
        } else {
            values = [try T(from: decoder)]
        }
    }
}

/// A coding key for any name or index.
struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) {
        self.intValue = index
        self.stringValue = "\(index)"
    }
    init?(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }
    init?(intValue: Int) { self.init(intValue) }
}

/// Rejects keys a document type does not know, naming the first one and the known ones.
public enum StrictKeys {
    /// Throws `DecodingError.dataCorrupted` at the unknown key's path.
    public static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: K.Type) throws {
        guard let container = try? decoder.container(keyedBy: IndexKey.self) else { return }
        let known = Set(K.allCases.map(\.stringValue))
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
        where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [key],
                    debugDescription: "unknown field (known fields: \(known.sorted().joined(separator: ", ")))"))
        }
    }
}

/// Shell-style globs with `*` (any run of characters) and `?` (one character).
public enum Glob {
    /// True when `text` matches `pattern`.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern)
        let t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
