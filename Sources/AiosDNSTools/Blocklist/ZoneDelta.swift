/// The zones in force after a few names changed — a single block, an unblock, an allow — worked
/// out from the zones in force before, without recomputing a million: only what lies at or
/// below a changed name can change (a zone's place depends on its parents, never its children).
enum ZoneDelta {
    /// Updates `desired` (zone → type, as `ZoneSet.effective` makes them) for names in `roots`
    /// whose block or allow status changed.
    /// - Parameters:
    ///   - isBlocked: whether a name is listed or singly blocked (after the change).
    ///   - allowed: the allowed names (after the change).
    ///   - type: the block zones' type.
    ///   - blockedBelow: the blocked names at or below any root (the caller scans its lists).
    /// - Returns: what the resolver must add (zone, type) and remove.
    static func apply(
        to desired: inout [String: String], roots: Set<String>, isBlocked: (String) -> Bool, allowed: Set<String>,
        type: String, blockedBelow: [String]
    ) -> (additions: [String], removals: [String]) {
        let suffixes = roots.map { "." + $0 }
        func under(_ name: String) -> Bool { roots.contains(name) || suffixes.contains { name.hasSuffix($0) } }
        func kept(_ name: String) -> Bool { isBlocked(name) && !ZoneSet.covered(name, by: allowed) }

        var before: [String: String] = [:]
        for (zone, value) in desired where under(zone) { before[zone] = value }
        for zone in before.keys { desired[zone] = nil }

        var set: [String] = []
        // Block zones: kept names with no kept parent (a kept parent above the root covers all).
        for name in blockedBelow where kept(name) && desired[name] == nil {
            if !ZoneSet.parents(of: name).contains(where: { kept(String($0)) }) {
                desired[name] = type
                set.append(name)
            }
        }
        // Exceptions: allowed names at or below a root that lie below a block zone.
        for name in allowed where under(name) {
            if ZoneSet.parents(of: name).contains(where: { desired[String($0)] == type }) {
                desired[name] = "transparent"
                set.append(name)
            }
        }

        var additions: [String] = []
        var removals: [String] = []
        for (zone, _) in before where desired[zone] == nil { removals.append(zone) }
        for zone in set where before[zone] != desired[zone] { additions.append("\(zone) \(desired[zone]!)") }
        return (additions, removals)
    }
}
