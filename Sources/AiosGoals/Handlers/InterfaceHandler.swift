public import AiosCore
public import AiosStore

/// `Interface`: one interface configured statically or by DHCP (`net.configure`'s fields).
/// Retracting it puts the interface back as it was before the goal first configured it
/// (`net.interface_restore` with the snapshot `net.configure` reported).
///
/// ```yaml
/// kind: Interface
/// name: uplink
/// spec: {interface: eth0, method: static, addresses: [192.168.1.10/24], gateway: 192.168.1.1}
/// ```
public struct InterfaceHandler: GoalHandler {
    public var kind: String { "Interface" }
    public var summary: String { "An interface's static or DHCP configuration (net.configure fields)" }
    public var watches: [String] { ["net.configure", "net.interface_restore", "net.link_set"] }
    public var watchesKernel: Bool { true }

    static let fields = [
        "interface", "method", "addresses", "gateway", "metric", "mtu", "dns", "timeout_ms", "fallback", "arp_probe",
    ]
    static let interfaces = CallRequest(tool: "net.interfaces")

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        .object(
            tools.properties(of: "net.configure", Self.fields), required: ["interface", "method"], description: summary,
            examples: [["interface": "eth0", "method": "dhcp"]])
    }

    public func reads(_ goal: Goal) -> [CallRequest] { [Self.interfaces] }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let name = goal.spec["interface"]?.stringValue ?? ""
        let links = try observed.output(Self.interfaces)["interfaces"]?.arrayValue ?? []
        guard let link = links.first(where: { $0["name"]?.stringValue == name }) else {
            throw AiosError(.notFound, "no interface \(name) on this machine (yet)")
        }
        let mine = owned.filter { $0.kind == "net.interface" }
        let stale = mine.filter { $0.id != name }
        let owns = mine.contains { $0.id == name }
        // Static: the addresses are on the link; DHCP: the daemon's own dhcpcd is asked (net.configure
        // answers unchanged while its lease holds).
        if owns, !goal.isNewGeneration, goal.spec["method"]?.stringValue == "static" {
            let present = Set(
                (link["addresses"]?.arrayValue ?? []).compactMap { address -> String? in
                    guard let text = address["address"]?.stringValue, let length = address["prefix_length"]?.intValue
                    else { return nil }
                    return "\(text)/\(length)"
                })
            let wanted = (goal.spec["addresses"]?.arrayValue ?? []).compactMap(\.stringValue)
            if wanted.allSatisfy(present.contains) { return GoalStep(stale: stale) }
        }
        let input = (goal.spec.objectValue ?? [:]).filter { Self.fields.contains($0.key) }
        return GoalStep(
            calls: [
                PlannedCall(
                    CallRequest(tool: "net.configure", input: .object(input)),
                    owns: { output, _ in
                        // The snapshot from before the goal's first change is the one kept.
                        guard !owns, let previous = output["previous"] else { return [] }
                        return [OwnedItem(kind: "net.interface", id: name, detail: previous.jsonText)]
                    })
            ], stale: stale)
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        owned.filter { $0.kind == "net.interface" }.compactMap { resource in
            guard let detail = resource.detail, let snapshot = try? JSONValue(parsing: detail) else { return nil }
            return CallRequest(tool: "net.interface_restore", input: snapshot)
        }
    }

    /// Static and DHCP on one interface, or two static configurations, clash.
    public func claims(_ goal: Goal) -> [GoalClaim] {
        let name = goal.spec["interface"]?.stringValue ?? ""
        let method = goal.spec["method"]?.stringValue ?? ""
        let addresses = (goal.spec["addresses"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
        return [GoalClaim(key: "interface \(name)", value: "\(method) \(addresses.joined(separator: ","))")]
    }
}
