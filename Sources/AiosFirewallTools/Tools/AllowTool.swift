public import AiosCore
import AiosStore

/// `firewall.allow`: admit traffic matching one rule or a batch, optionally until an expiry the
/// kernel enforces (set element timeouts) and the store remembers.
public struct AllowTool: Tool {
    public typealias Input = EntriesInput
    public typealias Output = EntriesOutput

    public static let descriptor = ToolDescriptor(
        name: "firewall.allow",
        summary:
            "Allow traffic (chain, protocol, port(s), source, destination, interface) with an optional expiry; batches in one transaction",
        effect: .change, inputSchema: EntriesInput.schema(verdict: "allow"))

    let planner: EntryPlanner

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        try await planner.plan(input, verdict: "allow", context: context)
    }
}

/// `firewall.deny`: drop traffic matching one rule or a batch; deny beats allow. Denies that would
/// shadow management access are refused by the policy's protected items.
public struct DenyTool: Tool {
    public typealias Input = EntriesInput
    public typealias Output = EntriesOutput

    public static let descriptor = ToolDescriptor(
        name: "firewall.deny",
        summary: "Deny traffic (evaluated before every allow) with an optional expiry; batches in one transaction",
        effect: .change, inputSchema: EntriesInput.schema(verdict: "deny"))

    let planner: EntryPlanner

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        try await planner.plan(input, verdict: "deny", context: context)
    }
}
