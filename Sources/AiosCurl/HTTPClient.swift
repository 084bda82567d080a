import AiosLinux
internal import CCurl
import Foundation

/// One HTTPS request.
public struct HTTPRequest: Sendable {
    /// `https://…` (plain `http://` only when `allowPlainHTTP`).
    public var url: String
    /// `GET` or `POST`.
    public var method: String
    /// Extra headers.
    public var headers: [String: String]
    /// Request body (POST).
    public var body: [UInt8]?
    /// Whole-transfer deadline, milliseconds.
    public var timeoutMs: Int
    /// Connect deadline, milliseconds.
    public var connectTimeoutMs: Int
    /// The response body may not be larger than this.
    public var maxBytes: Int
    /// Read the status and headers only.
    public var headOnly: Bool
    /// Permit `http://` (tests and local endpoints only).
    public var allowPlainHTTP: Bool

    /// Creates a request.
    public init(
        url: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil,
        timeoutMs: Int = 30_000, connectTimeoutMs: Int = 5_000, maxBytes: Int = 256 << 20, headOnly: Bool = false,
        allowPlainHTTP: Bool = false
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = connectTimeoutMs
        self.maxBytes = maxBytes
        self.headOnly = headOnly
        self.allowPlainHTTP = allowPlainHTTP
    }
}

/// What came back.
public struct HTTPResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// Response headers, names lowercased (the last value wins).
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]
    /// Name lookup, connect, TLS handshake and total time, milliseconds.
    public var lookupMs: Double
    public var connectMs: Double
    public var tlsMs: Double
    public var totalMs: Double
    /// The URL after redirects.
    public var effectiveURL: String

    /// A response with these fields (fakes build them; libcurl's come from a transfer).
    public init(
        status: Int, headers: [String: String] = [:], body: [UInt8] = [], lookupMs: Double = 0, connectMs: Double = 0,
        tlsMs: Double = 0, totalMs: Double = 0, effectiveURL: String
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.lookupMs = lookupMs
        self.connectMs = connectMs
        self.tlsMs = tlsMs
        self.totalMs = totalMs
        self.effectiveURL = effectiveURL
    }
}

/// Why a transfer failed.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// libcurl's result code.
    public var code: Int
    /// Its explanation.
    public var message: String
    public var description: String { message }

    /// An error with libcurl's `code` (-1 for one of aios-net's own checks) and `message`.
    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}

/// HTTPS requests over libcurl, each on a thread of its own (a transfer blocks), with deadlines,
/// a size limit, redirects only to HTTPS, no credentials of any kind (no netrc, no cookies), and
/// the system CA bundle plus an optional extra one.
/// What a caller needs of HTTPS: one request, one response. `HTTPClient` is the real one
/// (libcurl); unit tests use `AiosTesting.FakeHTTP`, which answers from a table of URLs.
public protocol HTTPPerforming: Sendable {
    /// Performs `request`.
    /// - Throws: `CurlError` when there is no response (DNS, connect, TLS, timeout, limit).
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse
}

public struct HTTPClient: HTTPPerforming {
    /// An extra CA bundle (PEM) trusted besides the system's, e.g. a lab's own CA.
    public let caFile: String?

    /// A client trusting the system CAs (and `caFile`).
    public init(caFile: String? = nil) {
        self.caFile = caFile
        _ = Self.initialised
    }

    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    /// Performs `request`.
    /// - Throws: `CurlError` (cannot resolve, connect, TLS failure, timeout, too large).
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let caFile = caFile
        return try await Offload.run { try Self.performBlocking(request, caFile: caFile) }
    }

    static func performBlocking(_ request: HTTPRequest, caFile: String?) throws -> HTTPResponse {
        guard request.url.hasPrefix("https://") || (request.allowPlainHTTP && request.url.hasPrefix("http://")) else {
            throw CurlError(code: -1, message: "only https:// URLs are fetched (got \(request.url))")
        }
        guard let handle = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let sink = TransferSink(limit: request.maxBytes)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        defer { curl_slist_free_all(headerList) }
        let protocols = request.allowPlainHTTP ? "http,https" : "https"

        let code: CURLcode = withExtendedLifetime(sink) {
            errorBuffer.withUnsafeMutableBufferPointer { errors in
                _ = aios_curl_setopt_str(handle, CURLOPT_URL, request.url)
                _ = aios_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                _ = aios_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMs)
                _ = aios_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
                _ = aios_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
                _ = aios_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
                _ = aios_curl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, protocols)
                _ = aios_curl_setopt_str(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols)
                _ = aios_curl_setopt_long(handle, CURLOPT_NETRC, Int(CURL_NETRC_IGNORED.rawValue))
                _ = aios_curl_setopt_str(handle, CURLOPT_USERAGENT, "aios-net")
                _ = aios_curl_setopt_str(handle, CURLOPT_ACCEPT_ENCODING, "")
                if let caFile { _ = aios_curl_setopt_str(handle, CURLOPT_CAINFO, caFile) }
                if let headerList { _ = aios_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList) }
                if request.headOnly { _ = aios_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
                _ = aios_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                let opaque = Unmanaged.passUnretained(sink).toOpaque()
                _ = aios_curl_setopt_writefn(handle, bodyCallback)
                _ = aios_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, opaque)
                _ = aios_curl_setopt_headerfn(handle, headerCallback)
                _ = aios_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, opaque)
                if request.method == "POST" {
                    let body = request.body ?? []
                    _ = aios_curl_setopt_long(handle, CURLOPT_POST, 1)
                    _ = aios_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    return body.withUnsafeBytes { raw in
                        _ = aios_curl_setopt_ptr(
                            handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                        return curl_easy_perform(handle)
                    }
                }
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            if sink.overflowed {
                throw CurlError(
                    code: Int(code.rawValue), message: "the response is larger than \(request.maxBytes) bytes")
            }
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw CurlError(code: Int(code.rawValue), message: "\(request.url): \(text) (curl error \(code.rawValue))")
        }
        var status = 0
        _ = aios_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var lookup = 0.0
        var connect = 0.0
        var tls = 0.0
        var total = 0.0
        _ = aios_curl_getinfo_double(handle, CURLINFO_NAMELOOKUP_TIME, &lookup)
        _ = aios_curl_getinfo_double(handle, CURLINFO_CONNECT_TIME, &connect)
        _ = aios_curl_getinfo_double(handle, CURLINFO_APPCONNECT_TIME, &tls)
        _ = aios_curl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &total)
        var effective: UnsafeMutablePointer<CChar>?
        _ = aios_curl_getinfo_str(handle, CURLINFO_EFFECTIVE_URL, &effective)
        return HTTPResponse(
            status: status, headers: sink.headers, body: sink.body, lookupMs: lookup * 1000, connectMs: connect * 1000,
            tlsMs: tls * 1000, totalMs: total * 1000, effectiveURL: effective.map { String(cString: $0) } ?? request.url
        )
    }
}

/// Collects one transfer's body and headers; confined to the transfer's thread.
private final class TransferSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}

private let bodyCallback: aios_curl_write_fn = { pointer, size, count, userdata in
    guard let pointer, let userdata else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    if sink.body.count + length > sink.limit {
        sink.overflowed = true
        return 0
    }
    sink.body.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
    return length
}

private let headerCallback: aios_curl_write_fn = { pointer, size, count, userdata in
    guard let pointer, let userdata else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") { sink.headers = [:] }
    if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        sink.headers[name] = value
    }
    return length
}
