public import AiosCore
import AiosStore

/// `net.intents`: the interfaces aios-net configured (`net.configure`: DHCP, static, or the
/// fallback's static result), as stored — what boot and the link monitor keep, and what a
/// person's own configuration is not.
public struct IntentsTool: Tool {
    /// Nothing to give.
    public struct Input: Decodable, Sendable {}

    /// The stored intents.
    public struct Output: Codable, Sendable {
        public var intents: [Intent]
    }

    /// One interface's intent.
    public struct Intent: Codable, Sendable {
        public var interface: String
        /// `dhcp` or `static`.
        public var method: String
        /// Who asked (`boot`, `goal`, `user`, `monitor`).
        public var origin: String
        public var updatedMs: Int64

        enum CodingKeys: String, CodingKey {
            case interface, method, origin
            case updatedMs = "updated_ms"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.intents", summary: "List the interfaces aios-net configured (method, who asked, when)",
        effect: .read, inputSchema: .object([:], examples: [[:]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        let store = context.store
        return .read {
            Output(
                intents: try await store.interfaceIntents().sorted { $0.interface < $1.interface }.map {
                    Intent(interface: $0.interface, method: $0.method, origin: $0.origin, updatedMs: $0.updatedMs)
                })
        }
    }
}
