/// The zones in force after some names changed — a single block, an allow, a list's new zones —
/// worked out from the zones in force before, without recomputing a million: a name's zone
/// depends only on whether it and its parents are blocked or allowed, so only the changed names
/// and the names below them can change (`ZoneSet.effective` gives the same result from scratch).
enum ZoneDelta {
    /// Updates `desired` (zone → type) for `names`: every name whose block or allow status
    /// changed, and every blocked or allowed name below one of those.
    /// - Parameters:
    ///   - isBlocked: whether a name is listed or singly blocked (after the change).
    ///   - isAllowed: whether a name is allowed (after the change).
    ///   - type: the block zones' type.
    /// - Returns: what the resolver must add (or change the type of) and remove, and by how
    ///   much the number of `transparent` zones changed.
    static func apply(
        to desired: inout [String: String], names: some Sequence<String>, isBlocked: (String) -> Bool,
        isAllowed: (String) -> Bool, type: String
    ) -> (additions: [(zone: String, type: String)], removals: [String], exceptionChange: Int) {
        func kept(_ name: String) -> Bool {
            isBlocked(name) && !isAllowed(name) && !ZoneSet.parents(of: name).contains { isAllowed(String($0)) }
        }
        var additions: [(zone: String, type: String)] = []
        var removals: [String] = []
        var exceptionChange = 0
        for name in names {
            let parentKept = ZoneSet.parents(of: name).contains { kept(String($0)) }
            let value: String? =
                if kept(name) && !parentKept { type } else if isAllowed(name) && parentKept { "transparent" } else {
                    nil
                }
            let before = desired[name]
            guard before != value else { continue }
            desired[name] = value
            if before == "transparent" { exceptionChange -= 1 }
            if value == "transparent" { exceptionChange += 1 }
            if let value { additions.append((name, value)) } else { removals.append(name) }
        }
        return (additions, removals, exceptionChange)
    }

    /// The names of `candidates` at or below one of `roots`.
    static func below(_ roots: Set<String>, in candidates: some Sequence<String>) -> [String] {
        candidates.filter { name in
            roots.contains(name) || ZoneSet.parents(of: name).contains { roots.contains(String($0)) }
        }
    }
}
