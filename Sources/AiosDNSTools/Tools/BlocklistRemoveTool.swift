public import AiosCore
import AiosStore
import Foundation

/// `dns.blocklist_remove`: stop blocking a list's names (the resolver drops only what no other
/// list or block still needs).
public struct BlocklistRemoveTool: Tool {
    /// The list.
    public struct Input: Decodable, Sendable {
        public var name: String
    }

    /// What changed.
    public struct Output: Codable, Sendable {
        public var name: String
        public var removed: Bool
        public var resolver: ZoneSyncReport?
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.blocklist_remove",
        summary: "Remove a blocklist; its names stop being blocked unless listed elsewhere",
        effect: .change,
        inputSchema: .object(
            ["name": .string("List name", pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$")], required: ["name"],
            examples: [["name": "ads"]]))

    let context: DNSContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let list = try await context.store.blocklist(named: input.name) else {
            return .unchanged(Output(name: input.name, removed: false, resolver: nil))
        }
        let diff = [Change("remove", "blocklist \(list.name)", detail: "\(list.zoneCount) zones")]
        let inverse = CallRequest(
            tool: BlocklistAddTool.descriptor.name,
            input: .object(
                ["name": .string(list.name), "source": .string(list.source)].merging(
                    list.refreshMs.map { ["refresh": .string(DurationText.format(milliseconds: $0))] } ?? [:],
                    uniquingKeysWith: { first, _ in first })))
        let context = context
        return .change(diff, inverse: inverse) {
            try await context.rows.flush()
            try await context.store.deleteBlocklist(named: list.name)
            for path in [
                context.paths.zones(list.name), context.paths.cached(list.name), context.paths.cacheMeta(list.name),
            ] {
                try? FileManager.default.removeItem(atPath: path)
            }
            let report = try await context.zones.sync(try await context.settings(), progress: toolContext.progress)
            return Output(name: list.name, removed: true, resolver: report)
        }
    }
}
