public import AiosCore
public import AiosStore

/// `DNSRecords`: host name → address records served by the managed resolver; a spec is
/// `dns.records_set`'s input (`name` + `address`/`addresses`, or `records`).
///
/// ```yaml
/// kind: DNSRecords
/// name: lan-hosts
/// spec:
///   records:
///     - {name: nas.lan, address: 192.168.1.20}
/// ```
public struct DNSRecordsHandler: GoalHandler {
    public var kind: String { "DNSRecords" }
    public var summary: String { "Host name → address records served by the resolver (dns.records_set fields)" }
    public var watches: [String] { ["dns.records"] }

    static let list = CallRequest(tool: "dns.records_list")

    /// Creates the handler.
    public init() {}

    public func specSchema(_ tools: ToolRegistry) -> JSONSchema {
        let properties = tools.properties(of: "dns.records_set", ["name", "address", "addresses", "ttl", "records"])
        return .object(
            properties, description: summary,
            examples: [["records": [["name": "nas.lan", "address": "192.168.1.20"]]]])
    }

    public func validate(_ spec: JSONValue) throws {
        guard !Self.wanted(spec).isEmpty else {
            throw AiosError(
                .invalidInput, "give name with address or addresses, or records", location: InputLocation(field: "spec")
            )
        }
        for (index, record) in Self.wanted(spec).enumerated() where record.addresses.isEmpty {
            let field = spec["records"] == nil ? "spec.address" : "spec.records[\(index)].address"
            throw AiosError(.invalidInput, "\(record.name) has no address", location: InputLocation(field: field))
        }
    }

    public func reads(_ goal: Goal) -> [CallRequest] { [Self.list] }

    public func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep {
        let served = try Self.served(observed)
        let mine = Set(owned.filter { $0.kind == "dns.record" }.map(\.id))
        var missing: [JSONValue] = []
        for record in Self.wanted(goal.spec) {
            let name = record.name.lowercased()
            if let current = served[name] {
                if Set(current) == Set(record.addresses) { continue }
                guard mine.contains(name) else {
                    throw AiosError(
                        .failed,
                        "\(name) is already served as \(current.joined(separator: ", ")) by someone else: remove that record or rename"
                    )
                }
            }
            var entry: [String: JSONValue] = [
                "name": .string(record.name), "addresses": .array(record.addresses.map(JSONValue.string)),
            ]
            if let ttl = record.ttl { entry["ttl"] = .number(Double(ttl)) }
            missing.append(.object(entry))
        }
        // Names an earlier generation served that this one no longer has.
        let wanted = Set(Self.wanted(goal.spec).map { $0.name.lowercased() })
        let stale = owned.filter { $0.kind == "dns.record" && !wanted.contains($0.id) }
        guard !missing.isEmpty else { return GoalStep(stale: stale) }
        let names = Set(missing.compactMap { $0["name"]?.stringValue?.lowercased() })
        return GoalStep(
            calls: [
                PlannedCall(
                    CallRequest(tool: "dns.records_set", input: ["records": .array(missing)]),
                    owns: { output, _ in
                        (output["changed"]?.arrayValue ?? []).compactMap(\.stringValue).filter {
                            names.contains($0.lowercased())
                        }
                        .map { OwnedItem(kind: "dns.record", id: $0.lowercased()) }
                    })
            ], stale: stale)
    }

    public func retract(_ owned: [GoalResource]) -> [CallRequest] {
        let names = owned.filter { $0.kind == "dns.record" }.map(\.id)
        return names.isEmpty
            ? [] : [CallRequest(tool: "dns.records_remove", input: ["names": .array(names.map(JSONValue.string))])]
    }

    public func claims(_ goal: Goal) -> [GoalClaim] {
        Self.wanted(goal.spec).map {
            GoalClaim(key: "dns record \($0.name.lowercased())", value: $0.addresses.sorted().joined(separator: ","))
        }
    }

    struct Wanted {
        var name: String
        var addresses: [String]
        var ttl: Int?
    }

    static func wanted(_ spec: JSONValue) -> [Wanted] {
        let items = spec["records"]?.arrayValue ?? (spec["name"] != nil ? [spec] : [])
        return items.compactMap { item in
            guard let name = item["name"]?.stringValue else { return nil }
            let addresses =
                (item["addresses"]?.arrayValue ?? []).compactMap(\.stringValue)
                + (item["address"]?.stringValue.map { [$0] } ?? [])
            return Wanted(name: name, addresses: addresses, ttl: item["ttl"]?.intValue)
        }
    }

    static func served(_ observed: Observations) throws -> [String: [String]] {
        var served: [String: [String]] = [:]
        for record in try observed.output(list)["records"]?.arrayValue ?? [] {
            guard let name = record["name"]?.stringValue else { continue }
            served[name.lowercased()] = (record["addresses"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        return served
    }
}
