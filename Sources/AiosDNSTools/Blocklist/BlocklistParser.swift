import Foundation

/// What one blocklist file holds once parsed: the block names (normalised, valid, unique), the
/// exceptions it lists (`@@||name^`), and the lines that were skipped.
struct ParsedBlocklist: Sendable {
    /// Unique valid names to block.
    var names: Set<String> = []
    /// Unique valid exception names (Adblock `@@`), which never get blocked.
    var exceptions: Set<String> = []
    /// Lines that held something but nothing usable (bad names, unsupported rules).
    var skipped = 0
    /// The first few skipped lines.
    var skippedExamples: [SkippedLine] = []
    /// Host names like `localhost` that lists carry for the system's sake, skipped silently.
    var localNames = 0
    /// Lines read.
    var lines = 0
    /// Each name given again after its first time, once per time (`ListIndex` counts these so
    /// that removing one of several lines naming a name keeps it). A list, not counts: counting
    /// in a dictionary here slowed the whole parse measurably.
    var repeated: [String] = []
    /// The same for exceptions.
    var repeatedExceptions: [String] = []
    /// The numbers of the skipped lines, ascending, each once.
    var skippedLines: [Int] = []
}

/// A skipped line, for the report.
///
/// Never the line's text: a list can be any file root can read (a `password=` line, a shadow
/// hash), and reports go to the CLI, the audit trail and SQLite.
public struct SkippedLine: Sendable, Codable, Hashable {
    /// 1-based line number.
    public var line: Int
    /// Why it was skipped (a fixed phrase, never the line's content).
    public var reason: String
}

/// Parses the formats real blocklists use, line by line, on bytes (a million-line list must parse
/// within a small factor of `sort -u`):
///
/// - hosts files (`0.0.0.0`/`127.0.0.1`/`::`/`0` + one or more names, inline `#` comments);
/// - plain domain lists; `*.name` wildcard lists (the name and everything below it);
/// - Adblock-style `||name^` (with `$modifiers`), `@@||name^` exceptions; other Adblock rules
///   (paths, cosmetic `##` rules, regexes) cannot be expressed in DNS and are reported;
/// - dnsmasq `address=/a/b/…`, `server=/…/`, `local=/…/`; unbound `local-zone: "name." type`.
///
/// Names are lowercased, lose one trailing dot, go from Unicode to punycode, and must be valid
/// host names (labels of letters, digits, `-` and `_`, at least two labels, a last label that is
/// not all digits). The rules reproduce the counts in `shared/data/blocklists/SOURCES.md`.
enum BlocklistParser {
    static let exampleLimit = 5
    static let localNames: Set<String> = [
        "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
        "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
    ]

    /// Parses `bytes`. `progress` is called with the number of bytes read, about every 64k lines.
    static func parse(_ bytes: [UInt8], progress: ((Int) -> Void)? = nil) -> ParsedBlocklist {
        var result = ParsedBlocklist()
        result.names.reserveCapacity(max(16, bytes.count / 24))
        // The result goes through as `inout`, not captured: a captured variable is checked for
        // exclusive access at run time on every line.
        result.lines = forEachLine(bytes, &result) { result, line, number, end in
            parse(line: line, number: number, into: &result)
            if number & 0xFFFF == 0 { progress?(end) }
        }
        progress?(bytes.count)
        return result
    }

    /// Calls `body` with `state`, each line of `bytes` (without its newline; a leading
    /// byte-order mark dropped), its 1-based number and the offset of its end, and returns the
    /// number of lines. The one way lines are told apart, so that `ListIndex` sees the lines the
    /// parser saw.
    @discardableResult @inline(__always)
    static func forEachLine<State>(
        _ bytes: [UInt8], _ state: inout State,
        _ body: (inout State, UnsafeBufferPointer<UInt8>, Int, Int) -> Void
    ) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { start = 3 }
            var number = 0
            while start < buffer.count {
                var end = start
                while end < buffer.count && buffer[end] != 10 { end += 1 }
                number += 1
                body(&state, UnsafeBufferPointer(rebasing: buffer[start..<end]), number, end)
                start = end + 1
            }
            return number
        }
    }

    /// Parses one line (without its newline) as line `number` of a document, into `result`.
    @inline(__always)
    static func parse(line: UnsafeBufferPointer<UInt8>, number: Int, into result: inout ParsedBlocklist) {
        parseLine(line, 0, line.count, number: number, into: &result)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 }

    private static func parseLine(
        _ buffer: UnsafeBufferPointer<UInt8>, _ lineStart: Int, _ lineEnd: Int, number: Int,
        into result: inout ParsedBlocklist
    ) {
        var start = lineStart
        var end = lineEnd
        while start < end && isSpace(buffer[start]) { start += 1 }
        while end > start && isSpace(buffer[end - 1]) { end -= 1 }
        guard start < end else { return }
        let first = buffer[start]
        if first == UInt8(ascii: "#") || first == UInt8(ascii: "!") || first == UInt8(ascii: "[") { return }
        let line = UnsafeBufferPointer(rebasing: buffer[start..<end])

        if first == UInt8(ascii: "|") || first == UInt8(ascii: "@") {
            parseAdblock(line, number: number, into: &result)
            return
        }
        if first == UInt8(ascii: "l") && hasPrefix(line, "local-zone:") {
            // local-zone: "name." type
            var i = 11
            while i < line.count && isSpace(line[i]) { i += 1 }
            if i < line.count && line[i] == UInt8(ascii: "\"") { i += 1 }
            var j = i
            while j < line.count && line[j] != UInt8(ascii: "\"") && !isSpace(line[j]) { j += 1 }
            accept(UnsafeBufferPointer(rebasing: line[i..<j]), line: line, number: number, into: &result)
            return
        }
        if first == UInt8(ascii: "s") && line.count == 7 && hasPrefix(line, "server:") { return }
        for prefix: StaticString in ["address=/", "server=/", "local=/"] where hasPrefix(line, prefix) {
            parseDnsmasq(line, from: prefix.utf8CodeUnitCount, number: number, into: &result)
            return
        }
        // Cosmetic (element hiding) rules look like a name followed by a comment; they are not DNS.
        if containsCosmeticMarker(line) {
            skip(line, number: number, reason: "cosmetic Adblock rule (not a DNS rule)", into: &result)
            return
        }
        var cut = line.count
        if let hash = line.firstIndex(of: UInt8(ascii: "#")) { cut = hash }
        var tail = cut
        while tail > 0 && isSpace(line[tail - 1]) { tail -= 1 }
        guard tail > 0 else { return }
        let body = UnsafeBufferPointer(rebasing: line[0..<tail])
        if body.count > 2 && body[0] == UInt8(ascii: "*") && body[1] == UInt8(ascii: ".") {
            accept(UnsafeBufferPointer(rebasing: body[2...]), line: line, number: number, into: &result)
            return
        }
        // Tokens on whitespace.
        var tokens: [Range<Int>] = []
        var i = 0
        while i < body.count {
            while i < body.count && isSpace(body[i]) { i += 1 }
            let tokenStart = i
            while i < body.count && !isSpace(body[i]) { i += 1 }
            if i > tokenStart { tokens.append(tokenStart..<i) }
        }
        if tokens.count == 1 {
            accept(UnsafeBufferPointer(rebasing: body[tokens[0]]), line: line, number: number, into: &result)
        } else if tokens.count >= 2 && isSinkAddress(UnsafeBufferPointer(rebasing: body[tokens[0]])) {
            var bad = false
            for token in tokens.dropFirst() {
                if !accept(
                    UnsafeBufferPointer(rebasing: body[token]), line: line, number: number, into: &result, report: false
                ) {
                    bad = true
                }
            }
            if bad { skip(line, number: number, reason: "invalid host name", into: &result) }
        } else {
            skip(line, number: number, reason: "not a hosts line, a domain or a rule", into: &result)
        }
    }

    private static func parseAdblock(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, into result: inout ParsedBlocklist
    ) {
        var i = 0
        var exception = false
        if hasPrefix(line, "@@") {
            exception = true
            i = 2
        }
        guard line.count > i + 2, line[i] == UInt8(ascii: "|"), line[i + 1] == UInt8(ascii: "|") else {
            skip(line, number: number, reason: "unsupported Adblock rule", into: &result)
            return
        }
        i += 2
        let nameStart = i
        while i < line.count {
            let byte = line[i]
            if byte == UInt8(ascii: "^") || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "|")
            {
                break
            }
            i += 1
        }
        // `||name^` optionally followed by `$modifiers`, nothing else.
        guard i > nameStart, i < line.count, line[i] == UInt8(ascii: "^"),
            i + 1 == line.count || line[i + 1] == UInt8(ascii: "$")
        else {
            skip(
                line, number: number, reason: "Adblock rule with a path or pattern (not expressible in DNS)",
                into: &result)
            return
        }
        let name = UnsafeBufferPointer(rebasing: line[nameStart..<i])
        if exception {
            switch normalise(name) {
            case .valid(let text):
                if !result.exceptions.insert(text).inserted { result.repeatedExceptions.append(text) }
            case .local: result.localNames += 1
            case .invalid(let reason): skip(line, number: number, reason: reason, into: &result)
            }
        } else {
            accept(name, line: line, number: number, into: &result)
        }
    }

    private static func parseDnsmasq(
        _ line: UnsafeBufferPointer<UInt8>, from offset: Int, number: Int, into result: inout ParsedBlocklist
    ) {
        var i = offset
        var any = false
        while i < line.count {
            let start = i
            while i < line.count && line[i] != UInt8(ascii: "/") { i += 1 }
            if i > start && i < line.count {
                any = true
                accept(UnsafeBufferPointer(rebasing: line[start..<i]), line: line, number: number, into: &result)
            }
            i += 1
            // The part after the last slash is the answer (`#`, an address), not a domain.
            if i < line.count, line[i...].firstIndex(of: UInt8(ascii: "/")) == nil { break }
        }
        if !any { skip(line, number: number, reason: "dnsmasq line without a domain", into: &result) }
    }

    /// Adds a name when valid; reports the line otherwise (unless `report` is false).
    @discardableResult
    private static func accept(
        _ name: UnsafeBufferPointer<UInt8>, line: UnsafeBufferPointer<UInt8>, number: Int,
        into result: inout ParsedBlocklist, report: Bool = true
    ) -> Bool {
        switch normalise(name) {
        case .valid(let text):
            if !result.names.insert(text).inserted { result.repeated.append(text) }
            return true
        case .local:
            result.localNames += 1
            return true
        case .invalid(let reason):
            if report { skip(line, number: number, reason: reason, into: &result) }
            return false
        }
    }

    private static func skip(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, reason: String, into result: inout ParsedBlocklist
    ) {
        result.skipped += 1
        if result.skippedLines.last != number { result.skippedLines.append(number) }
        if result.skippedExamples.count < exampleLimit {
            result.skippedExamples.append(SkippedLine(line: number, reason: reason))
        }
    }

    enum Normalised: Equatable {
        case valid(String)
        case local
        case invalid(String)
    }

    /// Lowercases, drops one trailing dot, converts IDN to punycode and validates one name.
    static func normalise(_ raw: UnsafeBufferPointer<UInt8>) -> Normalised {
        var count = raw.count
        if count > 0 && raw[count - 1] == UInt8(ascii: ".") { count -= 1 }
        guard count > 0 else { return .invalid("empty name") }
        if raw[0..<count].contains(where: { $0 >= 0x80 }) {
            let text = String(decoding: raw[0..<count], as: UTF8.self)
            guard let ascii = Punycode.toASCII(text.lowercased().precomposedStringWithCanonicalMapping) else {
                return .invalid("cannot convert the internationalised name to punycode")
            }
            return ascii.utf8.withContiguousStorageIfAvailable { validate(UnsafeBufferPointer(rebasing: $0[...])) }
                ?? .invalid("cannot convert the internationalised name to punycode")
        }
        return validate(UnsafeBufferPointer(rebasing: raw[0..<count]))
    }

    /// Validates (and lowercases) an ASCII name without a trailing dot.
    private static func validate(_ name: UnsafeBufferPointer<UInt8>) -> Normalised {
        let count = name.count
        var labels = 1
        var labelStart = 0
        var lastLabelDigitsOnly = true
        var problem: String?
        var index = 0
        while index <= count {
            if index == count || name[index] == UInt8(ascii: ".") {
                let length = index - labelStart
                if length == 0 || length > 63 {
                    problem = length == 0 ? "empty label" : "label longer than 63 characters"
                    break
                }
                if name[labelStart] == UInt8(ascii: "-") || name[index - 1] == UInt8(ascii: "-") {
                    problem = "label starts or ends with a hyphen"
                    break
                }
                if index < count {
                    labels += 1
                    labelStart = index + 1
                    lastLabelDigitsOnly = true
                }
            } else {
                let byte = name[index] | 0x20  // ASCII letters to lowercase; digits, '-' and '_' are checked below
                let digit = name[index] >= 48 && name[index] <= 57
                if !digit { lastLabelDigitsOnly = false }
                let letter = byte >= 97 && byte <= 122 && (name[index] >= 65)
                guard digit || letter || name[index] == UInt8(ascii: "-") || name[index] == UInt8(ascii: "_") else {
                    problem = "character not allowed in a host name"
                    break
                }
            }
            index += 1
        }
        let text = String(unsafeUninitializedCapacity: count) { output in
            for position in 0..<count {
                let byte = name[position]
                output[position] = byte >= 65 && byte <= 90 ? byte + 32 : byte
            }
            return count
        }
        // Local names come first: `localhost` is silently skipped, not a bad line.
        if labels == 1 || count == 7 || count == 21, localNames.contains(text) { return .local }
        if let problem { return .invalid(problem) }
        guard count <= 253 else { return .invalid("name longer than 253 characters") }
        guard labels >= 2 else { return .invalid("a single label would block a whole top-level domain") }
        guard !lastLabelDigitsOnly else { return .invalid("an address, not a name") }
        return .valid(text)
    }

    /// `0`, an IPv4 address, or an IPv6 address (optionally with a `%zone`).
    private static func isSinkAddress(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        if token.count == 1 && token[0] == UInt8(ascii: "0") { return true }
        if token.contains(UInt8(ascii: ":")) {
            var end = token.count
            if let percent = token.firstIndex(of: UInt8(ascii: "%")) { end = percent }
            return token[0..<end].allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
            }
        }
        var groups = 0
        var digits = 0
        for byte in token {
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return false }
                groups += 1
                digits = 0
            } else if byte >= 48 && byte <= 57 {
                digits += 1
                if digits > 3 { return false }
            } else {
                return false
            }
        }
        return groups == 3 && digits > 0
    }

    private static func hasPrefix(_ line: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard line.count >= length else { return false }
        return prefix.withUTF8Buffer { bytes in
            for index in 0..<length where line[index] != bytes[index] { return false }
            return true
        }
    }

    private static func containsCosmeticMarker(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count > 2 else { return false }
        // `name##selector`: the marker follows the name directly (`name  ## comment` is a comment).
        for index in 1..<(line.count - 1) where line[index] == UInt8(ascii: "#") && !isSpace(line[index - 1]) {
            let next = line[index + 1]
            if next == UInt8(ascii: "#") { return true }
            if index + 2 < line.count, line[index + 2] == UInt8(ascii: "#"),
                next == UInt8(ascii: "@") || next == UInt8(ascii: "$") || next == UInt8(ascii: "?")
                    || next == UInt8(ascii: "%")
            {
                return true
            }
        }
        return false
    }
}

/// What a list holds, in counts: the public face of the parser (benchmarks, `dns.blocklist_add`'s
/// figures).
public struct BlocklistSummary: Sendable, Hashable {
    /// Valid unique names.
    public var unique: Int
    /// Names left after dropping those covered by a listed parent.
    public var zones: Int
    /// Skipped lines.
    public var skipped: Int

    /// Parses `bytes` (any supported format); `prune` also computes the minimal zones.
    public static func of(_ bytes: [UInt8], prune: Bool = true) -> BlocklistSummary {
        let parsed = BlocklistParser.parse(bytes)
        return BlocklistSummary(
            unique: parsed.names.count, zones: prune ? ZoneSet.minimal(parsed.names).count : parsed.names.count,
            skipped: parsed.skipped)
    }
}
