public import AiosCore
public import AiosStore

/// `BlockDomains`: blocklists (`dns.blocklist_add`'s fields), single names to block (`dns.block`)
/// and names that always resolve (`dns.allow`), in the managed resolver.
///
/// ```yaml
/// kind: BlockDomains
/// name: no-ads
/// spec:
///   lists: [{name: ads, source: /etc/aios-net/lists/ads.txt, refresh: 1d}]
///   names: [tracker.example]
///   allow: [cdn.example]
/// ```
public struct BlockDomainsHandler: GoalHandler {
    public var kind: String { "BlockDomains" }
    public var summary: String { "Blocklists, names to block and names to allow in the resolver (dns.* fields)" }
    public var watches: [String] { ["dns.block", "dns.unblock", "dns.allow", "dns.blocklist"] }

    static let lists = CallRequest(tool: "dns.blocklist_list")

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        let list = tools.properties(of: "dns.blocklist_add", ["name", "source", "refresh"])
        let name = JSONSchema.string("A name (and everything below it)", minLength: 1, maxLength: 255)
        return .object(
            [
                "lists": .array(
                    of: .object(list, required: ["name", "source"]), "Blocklists (dns.blocklist_add)", maxItems: 64),
                "names": .array(of: name, "Names to block (dns.block)", maxItems: 10_000),
                "allow": .array(of: name, "Names that always resolve (dns.allow)", maxItems: 10_000),
                "comment": .string("Why", maxLength: 128),
            ], description: summary,
            examples: [
                ["lists": [["name": "ads", "source": "/etc/aios-net/lists/ads.txt"]], "allow": ["cdn.example"]]
            ])
    }

    public func validate(_ spec: JSONValue) throws {
        let empty = ["lists", "names", "allow"].allSatisfy { (spec[$0]?.arrayValue ?? []).isEmpty }
        guard !empty else {
            throw AiosError(.invalidInput, "give lists, names or allow", location: InputLocation(field: "spec"))
        }
        let blocked = Set(Self.strings(spec["names"]).map { $0.lowercased() })
        for (index, name) in Self.strings(spec["allow"]).enumerated() where blocked.contains(name.lowercased()) {
            throw AiosError(
                .invalidInput, "\(name) is both blocked and allowed",
                location: InputLocation(field: "spec.allow[\(index)]"))
        }
    }

    public func reads(_ goal: Goal) -> [CallRequest] {
        (goal.spec["lists"]?.arrayValue ?? []).isEmpty ? [] : [Self.lists]
    }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        var calls: [PlannedCall] = []
        let wantedLists = goal.spec["lists"]?.arrayValue ?? []
        if !wantedLists.isEmpty {
            let present = Dictionary(
                (try observed.output(Self.lists)["lists"]?.arrayValue ?? []).compactMap { list in
                    list["name"]?.stringValue.map { ($0, list["source"]?.stringValue ?? "") }
                }, uniquingKeysWith: { first, _ in first })
            let mine = Set(owned.filter { $0.kind == "dns.blocklist" }.map(\.id))
            for list in wantedLists {
                guard let name = list["name"]?.stringValue, let source = list["source"]?.stringValue else { continue }
                if let current = present[name] {
                    guard mine.contains(name) || current == source else {
                        throw AiosError(
                            .failed, "a blocklist named \(name) already exists with source \(current): rename this one")
                    }
                    continue
                }
                calls.append(
                    PlannedCall(
                        CallRequest(tool: "dns.blocklist_add", input: list),
                        owns: { _, _ in [OwnedItem(kind: "dns.blocklist", id: name, detail: source)] }))
            }
        }
        // Names: the tools answer which were new (owned) and which already held (someone's).
        let comment = goal.spec["comment"] ?? .string("goal \(goal.name)")
        for (field, tool, kind) in [("names", "dns.block", "dns.blocked"), ("allow", "dns.allow", "dns.allowed")] {
            let names = Self.strings(goal.spec[field])
            guard !names.isEmpty else { continue }
            calls.append(
                PlannedCall(
                    CallRequest(tool: tool, input: ["names": .array(names.map(JSONValue.string)), "comment": comment]),
                    owns: { output, _ in Self.strings(output["names"]).map { OwnedItem(kind: kind, id: $0) } }))
        }
        // What an earlier generation made that this one no longer wants.
        let wanted: [String: Set<String>] = [
            "dns.blocklist": Set(wantedLists.compactMap { $0["name"]?.stringValue }),
            "dns.blocked": Set(Self.strings(goal.spec["names"]).map { $0.lowercased() }),
            "dns.allowed": Set(Self.strings(goal.spec["allow"]).map { $0.lowercased() }),
        ]
        let stale = owned.filter { !(wanted[$0.kind]?.contains($0.id.lowercased()) ?? false) }
        return GoalStep(calls: calls, stale: stale)
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        let ids = { (kind: String) in owned.filter { $0.kind == kind }.map { JSONValue.string($0.id) } }
        var calls = owned.filter { $0.kind == "dns.blocklist" }.map {
            CallRequest(tool: "dns.blocklist_remove", input: ["name": .string($0.id)])
        }
        if !ids("dns.blocked").isEmpty {
            calls.append(CallRequest(tool: "dns.unblock", input: ["names": .array(ids("dns.blocked"))]))
        }
        if !ids("dns.allowed").isEmpty {
            calls.append(CallRequest(tool: "dns.allow_remove", input: ["names": .array(ids("dns.allowed"))]))
        }
        return calls
    }

    public func claims(_ goal: Goal) -> [GoalClaim] {
        Self.strings(goal.spec["names"]).map { GoalClaim(key: "dns name \($0.lowercased())", value: "block") }
            + Self.strings(goal.spec["allow"]).map { GoalClaim(key: "dns name \($0.lowercased())", value: "allow") }
    }

    static func strings(_ value: JSONValue?) -> [String] { (value?.arrayValue ?? []).compactMap(\.stringValue) }
}
