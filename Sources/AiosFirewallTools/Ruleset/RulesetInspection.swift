import AiosCore
import AiosLinux

/// What a listing of aios-net's table says, compared with the default ruleset.
struct RulesetInspection {
    /// Default rule ids absent from their chain.
    var missingRules: [String] = []
    /// Rules without an `aios:default:` comment (added by someone else, or dynamic ones later).
    var otherRules = 0
    /// Chain name → policy.
    var policies: [String: String] = [:]
    /// Chain name → number of rules.
    var ruleCounts: [String: Int] = [:]
    /// Management prefixes in the sets (normalised), when the listing has elements.
    var managementSubnets: [String] = []
    /// Management ports in the set.
    var managementPorts: [Int] = []
    /// Packets counted by the logged-drop rules, by chain.
    var drops: [String: Int] = [:]
    /// Sets and their types.
    var sets: [String: String] = [:]

    init(_ objects: [JSONValue]) {
        var seen: [String: Set<String>] = [:]
        for object in objects {
            if let chain = object["chain"] {
                let name = chain["name"]?.stringValue ?? "?"
                policies[name] = chain["policy"]?.stringValue ?? "none"
                ruleCounts[name] = ruleCounts[name] ?? 0
            } else if let rule = object["rule"] {
                let chain = rule["chain"]?.stringValue ?? "?"
                ruleCounts[chain, default: 0] += 1
                guard let comment = rule["comment"]?.stringValue, comment.hasPrefix("aios:default:") else {
                    otherRules += 1
                    continue
                }
                let id = String(comment.dropFirst("aios:default:".count))
                seen[chain, default: []].insert(id)
                if DefaultRuleset.logPrefixes[id] != nil {
                    let counter = rule["expr"]?.arrayValue?.compactMap { $0["counter"] }.first
                    drops[chain] = counter?["packets"]?.intValue ?? 0
                }
            } else if let set = object["set"] {
                let name = set["name"]?.stringValue ?? "?"
                sets[name] = set["type"]?.stringValue ?? set["type"]?.jsonText ?? "?"
                let elements = set["elem"]?.arrayValue ?? []
                if name == "mgmt_v4" || name == "mgmt_v6" { managementSubnets += elements.compactMap(Self.prefix) }
                if name == "mgmt_ports" {
                    managementPorts += elements.compactMap { ($0["elem"]?["val"] ?? $0).intValue }
                }
            }
        }
        for (chain, ids) in DefaultRuleset.ruleIDs {
            missingRules += ids.filter { !(seen[chain]?.contains($0) ?? false) }
        }
    }

    /// `10.0.0.0/8` for a listed interval element (plain address, prefix, or wrapped).
    static func prefix(_ element: JSONValue) -> String? {
        let value = element["elem"]?["val"] ?? element
        if let text = value.stringValue { return CIDR(text)?.description }
        if let prefix = value["prefix"], let address = prefix["addr"]?.stringValue, let length = prefix["len"]?.intValue
        {
            return CIDR("\(address)/\(length)")?.description
        }
        if let range = value["range"]?.arrayValue, range.count == 2 {
            return "\(range[0].stringValue ?? "?")-\(range[1].stringValue ?? "?")"
        }
        return nil
    }
}
