public import AiosCore
import AiosLinux
import AiosStore
import AiosUnbound

/// `dns.lookup`: answers, TTL and rcode through libunbound — against the managed resolver or a
/// given server — and whether the name is blocked, and by which list.
public struct LookupTool: Tool {
    /// The question.
    public struct Input: Decodable, Sendable {
        public var name: String
        public var type: String?
        /// `ADDR[:PORT]`; default: the managed resolver.
        public var server: String?
        public var timeoutMs: Int?
        /// Fail (instead of reporting the rcode) unless the server answers NOERROR or NXDOMAIN:
        /// what a guard probe wants.
        public var mustResolve: Bool?

        enum CodingKeys: String, CodingKey {
            case name, type, server
            case timeoutMs = "timeout_ms", mustResolve = "must_resolve"
        }
    }

    /// The answer.
    public struct Output: Codable, Sendable {
        public var name: String
        public var type: String
        public var server: String
        public var rcode: String
        public var answers: [String]
        public var ttl: Int
        public var canonicalName: String?
        public var blocked: Bool
        /// The list (or `dns.block`) that blocks it.
        public var list: String?
        /// The zone that matched.
        public var zone: String?
        /// Set when an allow entry keeps it resolving although a list names it.
        public var allowedBy: String?

        enum CodingKeys: String, CodingKey {
            case name, type, server, rcode, answers, ttl, blocked, list, zone
            case canonicalName = "canonical_name", allowedBy = "allowed_by"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.lookup",
        summary:
            "Resolve a name (libunbound) via the managed resolver or a given server; says if and by which list it is blocked",
        effect: .read,
        inputSchema: .object(
            [
                "name": .string("The name to resolve", minLength: 1, maxLength: 255),
                "type": .string("Record type (default A)", values: DNSRecordText.types.keys.sorted()),
                "server": .string("ADDR[:PORT] to ask instead of the managed resolver", maxLength: 64),
                "timeout_ms": .integer(
                    "Give up after this many milliseconds (default 3000)", minimum: 10, maximum: 60000),
                "must_resolve": .boolean("Fail unless the answer is NOERROR or NXDOMAIN (for guard probes)"),
            ], required: ["name"],
            examples: [["name": "example.com"], ["name": "example.com", "type": "AAAA", "server": "192.0.2.53:53"]]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let root = input.name == "."
        let name = root ? "." : try DNSName.normalise(input.name, field: "input.name", allowSingleLabel: true)
        let typeName = (input.type ?? "A").uppercased()
        guard let type = DNSRecordText.types[typeName] else {
            throw AiosError(
                .invalidInput, "unknown record type \(typeName)", location: InputLocation(field: "input.type"))
        }
        let settings = try await context.settings()
        let forwarder: String
        if let server = input.server {
            let upstream = try Upstream.parse(server, field: "input.server")
            forwarder = "\(upstream.address)@\(upstream.port ?? 53)"
        } else {
            forwarder = settings.listenForwarder
        }
        let store = context.store
        let rows = context.rows
        return .read {
            let answer: DNSAnswer
            do {
                answer = try await UnboundResolver(forwarders: [forwarder]).resolve(
                    root ? "." : name, type: type, timeout: Double(input.timeoutMs ?? 3000) / 1000)
            } catch {
                throw AiosError(.failed, "cannot resolve \(name) via \(forwarder): \(error)", cause: error)
            }
            if input.mustResolve == true, answer.rcode != 0 && answer.rcode != 3 {
                throw AiosError(.failed, "\(forwarder) answered \(name) with \(answer.rcodeName)")
            }
            var output = Output(
                name: name, type: typeName, server: forwarder, rcode: answer.rcodeName, answers: answer.records,
                ttl: answer.ttl, canonicalName: answer.canonicalName, blocked: false)
            if !root {
                try await rows.flush()
                try await Self.attribute(name, into: &output, store: store)
            }
            return output
        }
    }

    /// Fills in whether and why `name` is blocked, from the store (the same facts the resolver
    /// got; the caller flushes `ListZoneRows` first).
    static func attribute(_ name: String, into output: inout Output, store: Store) async throws {
        let suffixes = DNSName.suffixes(name)
        let singles = try await store.dnsNames(matching: suffixes)
        if let allow = suffixes.lazy.compactMap({ suffix in singles.first { $0.kind == "allow" && $0.name == suffix } })
            .first
        {
            output.allowedBy =
                allow.source == "dns.allow" ? "dns.allow \(allow.name)" : "\(allow.source) exception \(allow.name)"
            return
        }
        let listed = try await store.blocklistsListing(suffixes)
        for suffix in suffixes {
            if let single = singles.first(where: { $0.kind == "block" && $0.name == suffix }) {
                output.blocked = true
                output.list = single.source
                output.zone = suffix
                return
            }
            if let hit = listed.filter({ $0.zone == suffix }).map(\.list).sorted().first {
                output.blocked = true
                output.list = hit
                output.zone = suffix
                return
            }
        }
    }
}
