public import AiosCore
import AiosLinux

/// `net.link_set`: bring a link up or down, change its MTU. Taking the uplink down (or changing
/// its MTU) can cut the machine off, so that is disruptive and guarded.
public struct LinkSetTool: Tool {
    /// The change.
    public struct Input: Decodable, Sendable {
        public var interface: String
        public var up: Bool?
        public var mtu: Int?
    }

    /// The link afterwards.
    public struct Output: Codable, Sendable {
        public var interface: String
        public var up: Bool
        public var mtu: Int
    }

    public static let descriptor = ToolDescriptor(
        name: "net.link_set", summary: "Set a link up or down, or change its MTU (rtnetlink)", effect: .change,
        inputSchema: .object(
            [
                "interface": .string("Interface name", pattern: "^[^/\\s]{1,15}$"),
                "up": .boolean("true: up, false: down"),
                "mtu": .integer("MTU", minimum: 68, maximum: 65535),
            ], required: ["interface"],
            examples: [["interface": "eth1", "up": true], ["interface": "eth0", "mtu": 9000]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard input.up != nil || input.mtu != nil else {
            throw AiosError(.invalidInput, "give up, mtu or both", location: InputLocation(field: "input.up"))
        }
        let link = try context.link(input.interface)
        let snapshot = try await InterfaceSnapshot.capture(link, context: context)
        let up = input.up ?? snapshot.up
        let mtu = input.mtu ?? snapshot.mtu
        let output = Output(interface: link.name, up: up, mtu: mtu)
        var diff: [Change] = []
        if up != snapshot.up { diff.append(Change("set", "link \(link.name)", detail: up ? "up" : "down")) }
        if mtu != snapshot.mtu {
            diff.append(Change("set", "link \(link.name) mtu", detail: "\(snapshot.mtu) → \(mtu)"))
        }
        guard !diff.isEmpty else { return .unchanged(output) }
        let inverse = CallRequest(tool: InterfaceRestoreTool.descriptor.name, input: try JSONValue(encoding: snapshot))
        let netlink = context.netlink
        let context = context
        return .change(diff, inverse: inverse, disruptive: snapshot.isUplink) {
            do {
                if mtu != snapshot.mtu { try netlink.setLink(index: link.index, mtu: UInt32(mtu)) }
                if up != snapshot.up { try netlink.setLink(index: link.index, up: up) }
            } catch {
                throw context.failed("cannot change \(link.name)", error)
            }
            return output
        }
    }
}
