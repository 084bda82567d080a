public import AiosCore
import AiosLinux

/// `net.ping`: ICMP/ICMPv6 echo with count and timeout; round-trip times and loss. A read tool,
/// so it serves as a guard probe (it fails when every request goes unanswered).
public struct PingTool: Tool {
    /// What to ping.
    public struct Input: Decodable, Sendable {
        public var host: String
        public var count: Int?
        public var timeoutMs: Int?
        public var intervalMs: Int?

        enum CodingKeys: String, CodingKey {
            case host, count
            case timeoutMs = "timeout_ms", intervalMs = "interval_ms"
        }
    }

    /// The answers.
    public struct Output: Codable, Sendable {
        public var host: String
        public var sent: Int
        public var received: Int
        public var loss: Double
        public var rttMs: [Double]
        public var minMs: Double?
        public var avgMs: Double?
        public var maxMs: Double?

        enum CodingKeys: String, CodingKey {
            case host, sent, received, loss
            case rttMs = "rtt_ms", minMs = "min_ms", avgMs = "avg_ms", maxMs = "max_ms"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.ping",
        summary: "ICMP echo to an IPv4/IPv6 address: round-trip times and loss (fails when all are lost)",
        effect: .read,
        inputSchema: .object(
            [
                "host": .string("IPv4 or IPv6 address", maxLength: 64),
                "count": .integer("Echo requests (default 3)", minimum: 1, maximum: 100),
                "timeout_ms": .integer("Wait per request (default 1000)", minimum: 10, maximum: 30000),
                "interval_ms": .integer("Between requests (default 200)", minimum: 0, maximum: 10000),
            ], required: ["host"],
            examples: [["host": "192.0.2.1"], ["host": "2001:db8::1", "count": 5, "timeout_ms": 500]]))

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        guard IPAddressText.parse(input.host) != nil else {
            throw AiosError(
                .invalidInput, "\"\(input.host)\" is not an IPv4 or IPv6 address (resolve names with net.dns_lookup)",
                location: InputLocation(field: "input.host"))
        }
        return .read {
            let count = input.count ?? 3
            let results: [Double?]
            do {
                results = try await Offload.run {
                    try ICMPEcho.ping(
                        address: input.host, count: count, timeoutMs: input.timeoutMs ?? 1000,
                        intervalMs: input.intervalMs ?? 200)
                }
            } catch {
                throw AiosError(.failed, "cannot ping \(input.host): \(error)", cause: error)
            }
            let times = results.compactMap { $0 }
            guard !times.isEmpty else {
                throw AiosError(.failed, "\(input.host) did not answer \(count) echo request\(count == 1 ? "" : "s")")
            }
            return Output(
                host: input.host, sent: count, received: times.count, loss: Double(count - times.count) / Double(count),
                rttMs: times, minMs: times.min(), avgMs: times.reduce(0, +) / Double(times.count), maxMs: times.max())
        }
    }
}
