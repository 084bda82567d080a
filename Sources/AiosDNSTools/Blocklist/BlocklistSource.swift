import AiosCore
import AiosCurl
import AiosLinux
import Foundation

/// Where a list's bytes come from: a file, or an `https://` URL fetched with libcurl and cached
/// on disk (with its ETag/Last-Modified), so an offline refresh or a restart without network
/// uses the cached copy — and says so.
struct BlocklistSource: Sendable {
    let http: any HTTPPerforming
    let paths: DNSPaths

    /// The content of a source.
    struct Content: Sendable {
        var bytes: [UInt8]
        /// True when the cached copy was used.
        var fromCache: Bool
        /// Why the cache was used, or what the server said.
        var note: String?
        /// New HTTP validators to store with the cache.
        var validators: [String: String]
    }

    /// The largest list read, from a file or a download.
    static let maxBytes = 256 << 20

    /// Validates the form of a source.
    /// - Throws: `AiosError.invalidInput` naming `field`.
    static func check(_ source: String, field: String) throws {
        if source.hasPrefix("https://") {
            guard URL(string: source)?.host?.isEmpty == false else {
                throw AiosError(.invalidInput, "\(source) is not a valid URL", location: InputLocation(field: field))
            }
            return
        }
        if source.hasPrefix("http://") {
            throw AiosError(
                .invalidInput, "lists are fetched over https:// only (got \(source))",
                location: InputLocation(field: field))
        }
        guard source.hasPrefix("/") else {
            throw AiosError(
                .invalidInput, "source must be an absolute file path or an https:// URL (got \(source))",
                location: InputLocation(field: field))
        }
    }

    /// Reads `source` for list `name`.
    /// - Throws: `AiosError` (`.notFound`/`.unavailable`) saying what failed; when a download
    ///   fails and a cached copy exists, that copy is returned instead.
    func read(_ source: String, list name: String) async throws -> Content {
        guard source.hasPrefix("https://") else {
            // Measured before reading: a 1 GB file was once read whole (2.37 GB resident).
            let attributes = try? FileManager.default.attributesOfItem(atPath: source)
            if let attributes, attributes[.type] as? FileAttributeType != .typeRegular {
                throw AiosError(
                    .invalidInput, "the list file \(source) is not a regular file",
                    location: InputLocation(field: "input.source"))
            }
            if let size = (attributes?[.size] as? NSNumber)?.intValue, size > Self.maxBytes {
                throw AiosError(
                    .invalidInput,
                    "the list file \(source) is \(size >> 20) MiB, over the \(Self.maxBytes >> 20) MiB a list may be (the largest public lists are under 40 MiB)",
                    location: InputLocation(field: "input.source"))
            }
            guard let data = FileManager.default.contents(atPath: source) else {
                let reason = FileManager.default.fileExists(atPath: source) ? "cannot be read" : "does not exist"
                throw AiosError(
                    .notFound, "the list file \(source) \(reason)", location: InputLocation(field: "input.source"))
            }
            return Content(bytes: [UInt8](data), fromCache: false, note: nil, validators: [:])
        }
        let cached = FileManager.default.contents(atPath: paths.cached(name)).map { [UInt8]($0) }
        var headers: [String: String] = [:]
        let meta =
            (try? JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: paths.cacheMeta(name)) ?? Data())))
        if cached != nil, meta?["source"]?.stringValue == source {
            if let etag = meta?["etag"]?.stringValue { headers["If-None-Match"] = etag }
            if let modified = meta?["last_modified"]?.stringValue { headers["If-Modified-Since"] = modified }
        }
        do {
            let response = try await http.perform(
                HTTPRequest(url: source, headers: headers, timeoutMs: 60_000, maxBytes: Self.maxBytes))
            if response.status == 304, let cached {
                return Content(
                    bytes: cached, fromCache: true, note: "not modified since the cached copy", validators: [:])
            }
            guard (200..<300).contains(response.status) else {
                throw AiosError(.unavailable, "\(source) answered HTTP \(response.status)")
            }
            var validators: [String: String] = ["source": source]
            if let etag = response.headers["etag"] { validators["etag"] = etag }
            if let modified = response.headers["last-modified"] { validators["last_modified"] = modified }
            return Content(bytes: response.body, fromCache: false, note: nil, validators: validators)
        } catch {
            let reason = (error as? AiosError)?.message ?? "\(error)"
            guard let cached, meta?["source"]?.stringValue == source else {
                throw AiosError(
                    .unavailable, "cannot download \(source): \(reason); no cached copy to fall back on", cause: error)
            }
            let when =
                (try? FileManager.default.attributesOfItem(atPath: paths.cached(name))[.modificationDate] as? Date)
                .map { ISO8601DateFormatter().string(from: $0) } ?? "earlier"
            return Content(
                bytes: cached, fromCache: true, note: "cannot download (\(reason)); using the copy cached \(when)",
                validators: [:])
        }
    }

    /// Keeps a downloaded copy (and its validators) for offline use.
    func keep(_ content: Content, list name: String) throws {
        guard !content.fromCache, !content.validators.isEmpty else { return }
        try paths.ensureDirectories()
        try AtomicFile.write(content.bytes, to: paths.cached(name), mode: 0o600)
        let meta = JSONValue.object(content.validators.mapValues(JSONValue.string))
        try AtomicFile.write(meta.jsonText, to: paths.cacheMeta(name), mode: 0o600)
    }

    /// Refuses bytes that are not a list (empty, HTML, binary) with a clear reason, before parsing.
    static func sniff(_ bytes: [UInt8], source: String) throws {
        let head = bytes.prefix(65_536)
        guard head.contains(where: { $0 != 32 && $0 != 10 && $0 != 13 && $0 != 9 }) else {
            throw AiosError(
                .invalidInput, "\(source) is empty, not a blocklist", location: InputLocation(field: "input.source"))
        }
        let controls = head.filter { ($0 < 32 && $0 != 9 && $0 != 10 && $0 != 13) || $0 == 127 }.count
        if head.contains(0) || controls * 100 > head.count {
            throw AiosError(
                .invalidInput, "\(source) is binary data, not a blocklist",
                location: InputLocation(field: "input.source"))
        }
        if isHTMLPage(head) {
            throw AiosError(
                .invalidInput, "\(source) is an HTML page, not a blocklist (a download page instead of the raw list?)",
                location: InputLocation(field: "input.source"))
        }
    }

    /// An HTML page starts like one (after a byte-order mark, blanks and `<!-- -->` comments:
    /// `<!doctype html`, `<html`, `<head`), or most of its first lines are markup. A list with
    /// one stray markup line is a list: the parser skips and counts that line.
    static func isHTMLPage(_ head: ArraySlice<UInt8>) -> Bool {
        var text = Substring(String(decoding: head.prefix(4096), as: UTF8.self).lowercased())
        if text.hasPrefix("\u{feff}") { text = text.dropFirst() }
        while true {
            text = text.drop { $0.isWhitespace }
            guard text.hasPrefix("<!--"), let end = text.range(of: "-->") else { break }
            text = text[end.upperBound...]
        }
        if ["<!doctype html", "<html", "<head"].contains(where: { text.hasPrefix($0) }) { return true }
        let lines = text.split(whereSeparator: \.isNewline).prefix(50).map { $0.drop { $0.isWhitespace } }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("!") }
        let markup = lines.filter { $0.hasPrefix("<") }.count
        return lines.count >= 4 && markup * 2 > lines.count
    }
}
