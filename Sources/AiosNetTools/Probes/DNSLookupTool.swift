public import AiosCore
import AiosLinux
import AiosUnbound
import Foundation

/// `net.dns_lookup`: resolve a name through libunbound, against the system's resolvers
/// (`/etc/resolv.conf`, i.e. whatever the machine uses) or a given server. The connectivity
/// probe of boot and the agent; `dns.lookup` adds blocklist attribution for the managed resolver.
public struct DNSLookupTool: Tool {
    /// The question.
    public struct Input: Decodable, Sendable {
        public var name: String
        public var type: String?
        public var server: String?
        public var timeoutMs: Int?

        enum CodingKeys: String, CodingKey {
            case name, type, server
            case timeoutMs = "timeout_ms"
        }
    }

    /// The answer.
    public struct Output: Codable, Sendable {
        public var name: String
        public var type: String
        public var servers: [String]
        public var rcode: String
        public var answers: [String]
        public var ttl: Int
    }

    public static let descriptor = ToolDescriptor(
        name: "net.dns_lookup",
        summary: "Resolve a name via the system's resolvers or a given server (libunbound); fails on no answer",
        effect: .read,
        inputSchema: .object(
            [
                "name": .string("Name to resolve", minLength: 1, maxLength: 255),
                "type": .string("Record type (default A)", values: DNSRecordText.types.keys.sorted()),
                "server": .string("ADDR or ADDR@PORT; default the system's resolvers", maxLength: 64),
                "timeout_ms": .integer("Deadline (default 3000)", minimum: 10, maximum: 60000),
            ], required: ["name"],
            examples: [["name": "api.anthropic.com"], ["name": "example.com", "server": "192.0.2.53"]]))

    let resolvConf: String

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let typeName = (input.type ?? "A").uppercased()
        guard let type = DNSRecordText.types[typeName] else {
            throw AiosError(
                .invalidInput, "unknown record type \(typeName)", location: InputLocation(field: "input.type"))
        }
        var servers: [String]
        if let server = input.server {
            let parts = server.split(separator: "@")
            guard let first = parts.first, IPAddressText.parse(String(first)) != nil else {
                throw AiosError(
                    .invalidInput, "\(server) is not ADDR or ADDR@PORT", location: InputLocation(field: "input.server"))
            }
            servers = [server]
        } else {
            servers = Self.nameservers(resolvConf)
            guard !servers.isEmpty else {
                throw AiosError(.unavailable, "\(resolvConf) names no nameserver; give server")
            }
        }
        let chosen = servers
        return .read {
            let answer: DNSAnswer
            do {
                answer = try await UnboundResolver(forwarders: chosen).resolve(
                    input.name, type: type, timeout: Double(input.timeoutMs ?? 3000) / 1000)
            } catch {
                throw AiosError(
                    .failed, "cannot resolve \(input.name) via \(chosen.joined(separator: ", ")): \(error)",
                    cause: error)
            }
            guard answer.rcode == 0 || answer.rcode == 3 else {
                throw AiosError(.failed, "\(input.name): the resolver answered \(answer.rcodeName)")
            }
            return Output(
                name: input.name, type: typeName, servers: chosen, rcode: answer.rcodeName, answers: answer.records,
                ttl: answer.ttl)
        }
    }

    /// The `nameserver` lines of a resolv.conf.
    static func nameservers(_ path: String) -> [String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver", IPAddressText.parse(String(fields[1])) != nil else {
                return nil
            }
            return String(fields[1])
        }
    }
}
