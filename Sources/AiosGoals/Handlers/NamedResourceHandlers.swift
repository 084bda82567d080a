public import AiosCore
public import AiosStore

/// What the kinds that keep one named thing (a WireGuard interface, a sandbox network) share: a
/// create-or-update tool whose input is the spec, a read that lists the things by name, and a
/// removal by name. The thing is owned when the goal made it; one of that name made by someone
/// else fails the goal instead of being taken over.
public struct NamedResource: Sendable {
    /// The goal kind.
    public var kind: String
    /// One line for the docs.
    public var summary: String
    /// The create-or-update tool, whose fields the spec takes.
    public var tool: String
    /// The spec fields, as the tool names them.
    public var fields: [String]
    /// The field that names the thing, and its default when the spec leaves it out.
    public var idField: String
    /// The tool's default for `idField`, if any.
    public var defaultID: String?
    /// The read that lists the things.
    public var list: CallRequest
    /// The names in the read's output.
    public var names: @Sendable (JSONValue) -> Set<String>
    /// The removal tool (its input is `{idField: name}`).
    public var remove: String
    /// What the owned resource is called (`net.wireguard`).
    public var resource: String
    /// Examples for the schema.
    public var examples: [JSONValue]

    func id(_ spec: JSONValue) -> String? { spec[idField]?.stringValue ?? defaultID }
}

/// The handler of a `NamedResource` kind.
public struct NamedResourceHandler: GoalHandler {
    let resource: NamedResource

    /// A handler for `resource`.
    public init(_ resource: NamedResource) { self.resource = resource }

    public var kind: String { resource.kind }
    public var summary: String { resource.summary }
    public var watches: [String] { [resource.tool, resource.remove] }

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        let required = tools.descriptor(named: resource.tool)?.inputSchema.document["required"]?.arrayValue ?? []
        return .object(
            tools.properties(of: resource.tool, resource.fields), required: required.compactMap(\.stringValue),
            description: summary, examples: resource.examples)
    }

    public func reads(_ goal: Goal) -> [CallRequest] { [resource.list] }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        guard let id = resource.id(goal.spec) else {
            throw AiosError(.invalidInput, "spec.\(resource.idField) is required")
        }
        let present = resource.names(try observed.output(resource.list))
        let mine = owned.filter { $0.kind == resource.resource }
        let stale = mine.filter { $0.id != id }
        let owns = mine.contains { $0.id == id }
        if present.contains(id) {
            guard owns else {
                throw AiosError(
                    .failed, "\(id) already exists and was not made by this goal: pick another \(resource.idField)")
            }
            if !goal.isNewGeneration { return GoalStep(stale: stale) }
        }
        let resourceKind = resource.resource
        return GoalStep(
            calls: [
                PlannedCall(
                    CallRequest(tool: resource.tool, input: .object((goal.spec.objectValue ?? [:]))),
                    owns: { _, _ in [OwnedItem(kind: resourceKind, id: id)] })
            ], gone: present.contains(id) ? [] : mine.filter { $0.id == id }, stale: stale)
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        owned.filter { $0.kind == resource.resource }.map {
            CallRequest(tool: resource.remove, input: [resource.idField: .string($0.id)])
        }
    }

    public func claims(_ goal: Goal) -> [GoalClaim] {
        guard let id = resource.id(goal.spec) else { return [] }
        return [GoalClaim(key: "\(resource.resource) \(id)", value: goal.spec.jsonText)]
    }
}

extension NamedResource {
    /// `WireGuardTunnel`: one WireGuard interface with its peers (`net.wireguard_setup`'s fields).
    public static let wireGuardTunnel = NamedResource(
        kind: "WireGuardTunnel",
        summary: "A WireGuard interface and its peers (net.wireguard_setup fields; the key stays on the machine)",
        tool: "net.wireguard_setup", fields: ["interface", "listen_port", "address", "peers", "private_key_ref"],
        idField: "interface", list: CallRequest(tool: "net.wireguard_status"), names: Self.interfaces,
        remove: "net.wireguard_remove", resource: "net.wireguard",
        examples: [["interface": "wg0", "listen_port": 51820, "address": "10.44.0.1/24"]])

    /// `WireGuardMesh`: this node's side of a full mesh (`net.wireguard_mesh`'s fields).
    public static let wireGuardMesh = NamedResource(
        kind: "WireGuardMesh", summary: "This node's side of a full WireGuard mesh (net.wireguard_mesh fields)",
        tool: "net.wireguard_mesh", fields: ["interface", "listen_port", "self", "keepalive", "nodes"],
        idField: "interface", list: CallRequest(tool: "net.wireguard_status"), names: Self.interfaces,
        remove: "net.wireguard_remove", resource: "net.wireguard",
        examples: [
            [
                "interface": "wg-mesh", "self": "a",
                "nodes": [["name": "a", "address": "10.99.0.1/24"], ["name": "b", "address": "10.99.0.2/24"]],
            ]
        ])

    /// `SandboxNetwork`: a sandbox bridge with its profile (`firewall.sandbox_create`'s fields).
    public static let sandboxNetwork = NamedResource(
        kind: "SandboxNetwork",
        summary: "A sandbox network: bridge, gateway and egress profile (firewall.sandbox_create fields)",
        tool: "firewall.sandbox_create", fields: ["name", "bridge", "subnet", "profile"], idField: "name",
        defaultID: "default", list: CallRequest(tool: "firewall.sandbox_list"),
        names: { Set(($0["sandboxes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }) },
        remove: "firewall.sandbox_remove", resource: "firewall.sandbox",
        examples: [["name": "ci", "subnet": "10.89.0.0/24", "profile": "isolated"]])

    @Sendable static func interfaces(_ output: JSONValue) -> Set<String> {
        Set((output["interfaces"]?.arrayValue ?? []).compactMap { $0["interface"]?.stringValue })
    }
}

/// `AddressPool`: names given persistent addresses from one subnet (`net.allocate` per name).
///
/// ```yaml
/// kind: AddressPool
/// name: build-agents
/// spec: {subnet: 10.77.0.0/24, names: [agent-1, agent-2], publish: true}
/// ```
public struct AddressPoolHandler: GoalHandler {
    public var kind: String { "AddressPool" }
    public var summary: String { "Names given persistent addresses from a subnet (net.allocate per name)" }

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        var properties = tools.properties(of: "net.allocate", ["subnet", "publish"])
        let name = tools.properties(of: "net.allocate", ["name"])["name"] ?? .string("A name")
        properties["names"] = .array(of: name, "Who gets an address", minItems: 1, maxItems: 4096)
        return .object(
            properties, required: ["subnet", "names"], description: summary,
            examples: [["subnet": "10.77.0.0/24", "names": ["agent-1", "agent-2"]]])
    }

    public func reads(_ goal: Goal) -> [CallRequest] { [] }

    /// `net.allocate` is idempotent (the same name keeps its address): every name is asked for,
    /// and the goal owns those it was the first to ask for.
    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let subnet = goal.spec["subnet"]?.stringValue ?? ""
        let names = BlockDomainsHandler.strings(goal.spec["names"])
        let wanted = Set(names.map { "\(subnet) \($0)" })
        let calls = names.map { name in
            var input: [String: JSONValue] = ["subnet": .string(subnet), "name": .string(name)]
            input["publish"] = goal.spec["publish"]
            return PlannedCall(
                CallRequest(tool: "net.allocate", input: .object(input)),
                owns: { output, adopting in
                    guard output["new"] == .bool(true) || adopting else { return [] }
                    return [
                        OwnedItem(
                            kind: "net.allocation", id: "\(subnet) \(name)", detail: output["address"]?.stringValue)
                    ]
                })
        }
        return GoalStep(calls: calls, stale: owned.filter { $0.kind == "net.allocation" && !wanted.contains($0.id) })
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        owned.filter { $0.kind == "net.allocation" }.compactMap { resource in
            let parts = resource.id.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            return CallRequest(tool: "net.release", input: ["subnet": .string(parts[0]), "name": .string(parts[1])])
        }
    }

    public func claims(_ goal: Goal) -> [GoalClaim] { [] }
}
