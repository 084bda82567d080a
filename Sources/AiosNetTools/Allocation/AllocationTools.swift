public import AiosCore
import AiosLinux
import AiosStore

/// `net.allocate`: hand a name an address from a subnet, for good (seed 004): the same name gets
/// the same address after any restart; the first allocation is the first usable address after
/// the gateway (the subnet's first address); addresses configured on this machine's interfaces
/// or already handed out are skipped. Optionally the name is published as a DNS local record
/// (a follow-up `dns.records_set`).
public struct AllocateTool: Tool {
    /// The request.
    public struct Input: Decodable, Sendable {
        /// The pool: a subnet, `ADDR/LEN`.
        public var subnet: String
        public var name: String
        /// Also serve `name` → address from the managed resolver.
        public var publish: Bool?
    }

    /// The allocation.
    public struct Output: Codable, Sendable {
        public var subnet: String
        public var name: String
        public var address: String
        public var gateway: String
        /// False when the name already had it.
        public var new: Bool
    }

    public static let descriptor = ToolDescriptor(
        name: "net.allocate", summary: "Give a name a persistent address from a subnet (first free after the gateway)",
        effect: .change,
        inputSchema: .object(
            [
                "subnet": .string("IPv4 or IPv6 subnet ADDR/LEN", maxLength: 64),
                "name": .string("Who gets the address", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"),
                "publish": .boolean("Publish the name as a DNS local record"),
            ], required: ["subnet", "name"],
            examples: [
                ["subnet": "10.77.0.0/24", "name": "build-agent-1"],
                ["subnet": "10.77.0.0/24", "name": "cache.lan", "publish": true],
            ]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let parsed = CIDR(input.subnet), input.subnet.contains("/"),
            (parsed.isIPv6 ? 32...126 : 8...30).contains(parsed.length)
        else {
            throw AiosError(
                .invalidInput,
                "\(input.subnet) is not a pool: a subnet from /8 to /30 (IPv4) or /32 to /126 (IPv6); 0.0.0.0/0 is every address, not a pool",
                location: InputLocation(field: "input.subnet"))
        }
        let subnet = parsed.network
        let pool = subnet.description
        let gateway = subnet.host(1)!
        let existing = try await context.store.allocations(pool: pool).first { $0.name == input.name }
        let followUps =
            input.publish == true
            ? [
                { (address: String) in
                    CallRequest(
                        tool: "dns.records_set", input: ["name": .string(input.name), "address": .string(address)])
                }
            ]
            : []
        if let existing {
            return .unchanged(
                Output(subnet: pool, name: input.name, address: existing.address, gateway: gateway, new: false))
        }
        let inUse = Set(try context.netlink.addresses().map(\.address))
        let taken = Set(try await context.store.allocations(pool: pool).map(\.address))
        let candidate = try Self.firstFree(subnet, excluding: taken.union(inUse))
        let inverse = CallRequest(
            tool: ReleaseTool.descriptor.name, input: ["subnet": .string(pool), "name": .string(input.name)])
        let context = context
        let origin = toolContext.origin.rawValue
        let now = toolContext.clock.nowMs()
        return .change(
            [Change("add", "allocation \(input.name)", detail: "\(candidate) in \(pool)")], inverse: inverse,
            followUps: followUps.map { $0(candidate) }
        ) {
            // Decided again inside the write transaction: two calls at once never get one address.
            let (record, isNew) = try await context.store.allocate(
                pool: pool, name: input.name, origin: origin, now: now
            ) { taken in
                let address = try Self.firstFree(subnet, excluding: taken.union(inUse))
                // The DNS follow-up names the planned address: publish nothing else.
                guard input.publish != true || address == candidate else {
                    throw AiosError(
                        .failed, "\(candidate) was allocated by another call meanwhile; nothing changed, try again")
                }
                return address
            }
            return Output(subnet: pool, name: input.name, address: record.address, gateway: gateway, new: isNew)
        }
    }

    /// The first address after the gateway that is not in `excluding` (and not the broadcast).
    static func firstFree(_ subnet: CIDR, excluding: Set<String>) throws -> String {
        var offset: UInt128 = 2
        let last = subnet.isIPv6 ? min(subnet.size - 1, 1 << 20) : subnet.size - 2
        while offset <= last {
            if let address = subnet.host(offset), !excluding.contains(address) { return address }
            offset += 1
        }
        throw AiosError(.failed, "subnet \(subnet) has no free address left")
    }
}

/// `net.release`: give an allocated address back.
public struct ReleaseTool: Tool {
    /// The allocation.
    public struct Input: Decodable, Sendable {
        public var subnet: String
        public var name: String
    }

    /// What was released.
    public struct Output: Codable, Sendable {
        public var subnet: String
        public var name: String
        public var address: String?
    }

    public static let descriptor = ToolDescriptor(
        name: "net.release", summary: "Give an allocated address back to its subnet", effect: .change,
        inputSchema: .object(
            ["subnet": .string("The subnet ADDR/LEN", maxLength: 64), "name": .string("Who had it", maxLength: 63)],
            required: ["subnet", "name"], examples: [["subnet": "10.77.0.0/24", "name": "build-agent-1"]]))

    let context: NetContext

    public func plan(_ input: Input, in toolContext: ToolContext) async throws -> ToolPlan<Output> {
        guard let parsed = CIDR(input.subnet) else {
            throw AiosError(
                .invalidInput, "\(input.subnet) is not a subnet", location: InputLocation(field: "input.subnet"))
        }
        let pool = parsed.network.description
        guard let existing = try await context.store.allocations(pool: pool).first(where: { $0.name == input.name })
        else {
            return .unchanged(Output(subnet: pool, name: input.name, address: nil))
        }
        let context = context
        return .change([Change("remove", "allocation \(input.name)", detail: existing.address)]) {
            let released = try await context.store.release(pool: pool, name: input.name)
            return Output(subnet: pool, name: input.name, address: released?.address)
        }
    }
}
