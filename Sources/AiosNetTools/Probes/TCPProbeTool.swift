public import AiosCore
import AiosLinux

/// `net.tcp_probe`: connect to host:port with a deadline; succeeds only when the handshake
/// completes. A read tool, so it can serve as a guard probe.
public struct TCPProbeTool: Tool {
    /// Where to connect.
    public struct Input: Decodable, Sendable {
        public var host: String
        public var port: Int
        public var timeoutMs: Int?

        enum CodingKeys: String, CodingKey {
            case host, port
            case timeoutMs = "timeout_ms"
        }
    }

    /// The handshake time.
    public struct Output: Codable, Sendable {
        public var host: String
        public var port: Int
        public var connected: Bool
        public var milliseconds: Double
    }

    public static let descriptor = ToolDescriptor(
        name: "net.tcp_probe", summary: "Connect to an IPv4/IPv6 address and TCP port with a timeout (a guard probe)",
        effect: .read,
        inputSchema: .object(
            [
                "host": .string("IPv4 or IPv6 address", maxLength: 64),
                "port": .integer("TCP port", minimum: 1, maximum: 65535),
                "timeout_ms": .integer(
                    "Give up after this many milliseconds (default 2000)", minimum: 1, maximum: 60000),
            ], required: ["host", "port"],
            examples: [["host": "192.0.2.1", "port": 22], ["host": "::1", "port": 443, "timeout_ms": 500]]))

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        guard IPAddressText.parse(input.host) != nil else {
            throw AiosError(
                .invalidInput,
                "\"\(input.host)\" is not an IPv4 or IPv6 address (names are resolved with net.dns_lookup)",
                location: InputLocation(field: "input.host"))
        }
        return .read {
            do {
                let milliseconds = try await Offload.run {
                    try TCPConnect.probe(address: input.host, port: input.port, timeoutMs: input.timeoutMs ?? 2000)
                }
                return Output(host: input.host, port: input.port, connected: true, milliseconds: milliseconds)
            } catch {
                throw AiosError(.failed, "cannot connect to \(input.host) port \(input.port): \(error)", cause: error)
            }
        }
    }
}
