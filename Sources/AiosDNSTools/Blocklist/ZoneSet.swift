/// Zone semantics: an unbound `local-zone` covers its name and every name below it, so a name
/// whose parent is also listed adds nothing.
enum ZoneSet {
    /// The proper suffixes of `name` that still have at least two labels (`a.b.example.com` →
    /// `b.example.com`, `example.com`).
    static func parents(of name: String) -> [Substring] {
        var out: [Substring] = []
        var utf8 = name.utf8[...]
        while let dot = utf8.firstIndex(of: UInt8(ascii: ".")) {
            let rest = utf8[utf8.index(after: dot)...]
            guard rest.contains(UInt8(ascii: ".")) else { break }
            out.append(Substring(rest))
            utf8 = rest
        }
        return out
    }

    /// True when `name` or one of its parents is in `set`.
    static func covered(_ name: String, by set: Set<String>) -> Bool {
        set.contains(name) || parents(of: name).contains { set.contains(String($0)) }
    }

    /// True when a proper parent of `name` is in `set`.
    static func hasListedParent(_ name: String, in set: Set<String>) -> Bool {
        parents(of: name).contains { set.contains(String($0)) }
    }

    /// The names of `set` that no other name of `set` covers: the minimal zones.
    static func minimal(_ set: Set<String>) -> Set<String> {
        var out = Set<String>(minimumCapacity: set.count)
        for name in set where !hasListedParent(name, in: set) { out.insert(name) }
        return out
    }

    /// The zones to load: blocked names not allowed (an allowed name also un-blocks what is
    /// below it), pruned to the minimal set, plus a `transparent` exception for every allowed
    /// name that lies below a blocked zone (the longest zone wins in unbound).
    static func effective(blocked: Set<String>, allowed: Set<String>) -> (block: Set<String>, transparent: Set<String>)
    {
        let kept = allowed.isEmpty ? blocked : blocked.filter { !covered($0, by: allowed) }
        let block = minimal(kept)
        let transparent = allowed.filter { hasListedParent($0, in: block) || block.contains($0) }
        return (block, transparent)
    }
}
