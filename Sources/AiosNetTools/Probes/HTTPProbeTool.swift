public import AiosCore
import AiosCurl
import Foundation

/// `net.http_probe`: is an HTTPS endpoint reachable — status and timing (name lookup, connect,
/// TLS, total) through libcurl. Never sends credentials: URLs with a user or password are
/// refused, no cookies, no netrc. A read tool (a guard probe).
public struct HTTPProbeTool: Tool {
    /// What to probe.
    public struct Input: Decodable, Sendable {
        public var url: String
        public var timeoutMs: Int?
        /// Statuses that count as reachable (default 200-399).
        public var expectStatus: [Int]?

        enum CodingKeys: String, CodingKey {
            case url
            case timeoutMs = "timeout_ms", expectStatus = "expect_status"
        }
    }

    /// The answer.
    public struct Output: Codable, Sendable {
        public var url: String
        public var status: Int
        public var reachable: Bool
        public var lookupMs: Double
        public var connectMs: Double
        public var tlsMs: Double
        public var totalMs: Double

        enum CodingKeys: String, CodingKey {
            case url, status, reachable
            case lookupMs = "lookup_ms", connectMs = "connect_ms", tlsMs = "tls_ms", totalMs = "total_ms"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.http_probe",
        summary: "HTTPS reachability of a URL: status and timing (libcurl; never sends credentials)",
        effect: .read,
        inputSchema: .object(
            [
                "url": .string("https:// URL", pattern: "^https://", maxLength: 2048),
                "timeout_ms": .integer("Whole request deadline (default 5000)", minimum: 100, maximum: 60000),
                "expect_status": .array(
                    of: .integer("HTTP status", minimum: 100, maximum: 599), "Statuses that count as reachable"),
            ], required: ["url"], examples: [["url": "https://api.example.com/health"]]))

    let http: any HTTPPerforming

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        guard let components = URLComponents(string: input.url), components.host?.isEmpty == false else {
            throw AiosError(
                .invalidInput, "\(input.url) is not a valid URL", location: InputLocation(field: "input.url"))
        }
        guard components.user == nil && components.password == nil else {
            throw AiosError(
                .invalidInput, "URLs with credentials are refused: probes never send credentials",
                location: InputLocation(field: "input.url"))
        }
        let http = http
        return .read {
            let response: HTTPResponse
            do {
                response = try await http.perform(
                    HTTPRequest(
                        url: input.url, timeoutMs: input.timeoutMs ?? 5000,
                        connectTimeoutMs: min(input.timeoutMs ?? 5000, 5000), maxBytes: 1 << 20, headOnly: true))
            } catch {
                throw AiosError(.failed, "\(input.url) is not reachable: \(error)", cause: error)
            }
            let expected = input.expectStatus.map(Set.init) ?? Set(200..<400)
            let output = Output(
                url: input.url, status: response.status, reachable: expected.contains(response.status),
                lookupMs: response.lookupMs,
                connectMs: response.connectMs, tlsMs: response.tlsMs, totalMs: response.totalMs)
            guard output.reachable else {
                throw AiosError(.failed, "\(input.url) answered HTTP \(response.status)")
            }
            return output
        }
    }
}
