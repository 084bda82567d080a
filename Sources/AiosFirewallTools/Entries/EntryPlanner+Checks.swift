import AiosCore
import AiosLinux
import AiosStore

/// The checks a batch passes before it is applied: overlaps, conflicts with the rules in force,
/// the management subnets.
extension EntryPlanner {
    /// Refuses elements the kernel would refuse: against the rules in force (their index is
    /// cached per store generation) and within the batch.
    func checkOverlaps(_ batch: Batch, current: ActiveRules.Snapshot, now: Int64, field: (Int) -> String)
        async throws
    {
        var current = current
        var fields: [String: String] = [:]
        var entries: [OverlapIndex.Entry] = []
        for position in 0..<batch.count {
            let id = batch.id(position)
            let indexed = ActiveRules.indexed(batch.elements[position], owner: id)
            guard !indexed.isEmpty else { continue }
            fields[id] = field(batch.indices[position])
            entries += indexed
        }
        // Only boxes can overlap (exact elements are neither indexed nor checked).
        guard !entries.isEmpty else { return }
        let index = OverlapIndex(entries)
        var exact = false
        for position in 0..<batch.count {
            let id = batch.id(position)
            let here = field(batch.indices[position])
            for element in batch.elements[position] where !element.shape.isExact {
                if let other = index.conflict(for: element, owner: id) {
                    throw Self.overlap(fields[other] ?? other, field: here)
                }
                guard let other = current.conflict(for: element, owner: id),
                    let existing = current.byID[other]
                else { continue }
                if existing.expiresMs.map({ $0 > now }) ?? true {
                    throw Self.overlap("rule \(existing.id) (\(existing.summary))", field: here)
                }
                // The rule in the way has expired but is not ended yet: judge against the live
                // rules only (rare, so rebuilt here rather than cached).
                if !exact {
                    let live = try await store.activeFirewallRules(unexpiredAt: now)
                    current = ActiveRules.build(live).0
                    exact = true
                    if let again = current.conflict(for: element, owner: id),
                        let existing = current.byID[again]
                    {
                        throw Self.overlap("rule \(existing.id) (\(existing.summary))", field: here)
                    }
                }
            }
        }
    }

    /// A change committed between this batch's plan and its apply, seen in the rules in force
    /// (`current`, live at `now`): a rule the batch reported unchanged is gone, a new rule of the
    /// batch is in force already, or a rule in force holds one of its hash-set elements. Nil when
    /// there is none.
    static func conflict(_ batch: Batch, with current: ActiveRules.Snapshot, now: Int64) -> AiosError? {
        func live(_ id: String) -> FirewallRuleRecord? {
            current.byID[id].flatMap { record in (record.expiresMs.map { $0 > now } ?? true) ? record : nil }
        }
        // A rule this batch found in force (and reports unchanged) that was removed meanwhile.
        if let gone = batch.unchanged.first(where: { live($0) == nil }) {
            return AiosError(
                .failed,
                "rule \(gone), found in force when this call was planned, was removed or expired meanwhile; nothing was changed: run the call again"
            )
        }
        for position in 0..<batch.count {
            if let id = current.byKey[batch.rules[position]], let existing = live(id) {
                return AiosError(
                    .failed,
                    "rule \(existing.id) (\(existing.summary)) was added while this call was being planned; nothing was changed: run the call again (that rule will be reported unchanged)"
                )
            }
            for element in batch.elements[position] {
                guard let key = element.exactKey, let owner = current.exact[key], let existing = live(owner) else {
                    continue
                }
                return AiosError(
                    .failed,
                    "rule \(existing.id) (\(existing.summary)) was added while this call was being planned and writes the same set element; nothing was changed: run the call again"
                )
            }
        }
        return nil
    }

    /// Two rules writing one hash-set element would share it and its timer (removing or expiring
    /// one would end the other's), so the second is refused.
    static func shared(_ other: String, field: String) -> AiosError {
        AiosError(
            .invalidInput,
            "writes the same set element as \(other) (same host, protocol and port): that rule already covers it; remove it first or leave this one out",
            location: InputLocation(field: field))
    }

    static func overlap(_ other: String, field: String) -> AiosError {
        AiosError(
            .invalidInput,
            "overlaps \(other): an nftables interval set cannot hold a range that starts or ends inside another, and a set element both rules wrote would go with either's removal; remove that rule or make this one disjoint",
            location: InputLocation(field: field))
    }

    /// True when a deny matches traffic from or to a management subnet (any port): it can cut the
    /// operators' path, so it is disruptive and runs under the guard.
    func touchesManagementSubnet(_ rules: Runs<EntryRule>) async throws -> Bool {
        let intent: ManagementIntent? = try await store.setting(ManagementIntent.settingKey).map { try $0.decode() }
        guard let intent else { return false }
        return rules.contains { rule in
            intent.subnets.contains { subnet in
                let family = subnet.contains(":") ? "v6" : "v4"
                guard rule.families.contains(family) else { return false }
                let management = AddressRange(subnet, family: family)
                return AddressRange(rule.source, family: family).overlaps(management)
                    && (rule.chain != "output" || rule.source != "any")
                    || AddressRange(rule.destination, family: family).overlaps(management)
                        && (rule.chain != "input" || rule.destination != "any")
            }
        }
    }

    func managementTouched(_ rules: Runs<EntryRule>) async throws -> [ProtectedItem] {
        let intent: ManagementIntent? = try await store.setting(ManagementIntent.settingKey).map { try $0.decode() }
        guard let intent else { return [] }
        var items: [ProtectedItem] = []
        for rule in rules where rule.chain == "input" && (rule.protocolName == "tcp" || rule.protocolName == "any") {
            let ports = intent.ports.filter { port in rule.ports?.contains { $0.low <= port && port <= $0.high } ?? true
            }
            guard !ports.isEmpty else { continue }
            for subnet in intent.subnets {
                let family = subnet.contains(":") ? "v6" : "v4"
                guard rule.families.contains(family),
                    AddressRange(rule.source, family: family).overlaps(AddressRange(subnet, family: family))
                else { continue }
                items.append(
                    ProtectedItem(
                        kind: "firewall_rule",
                        attributes: [
                            "role": "management", "port": ports.map(String.init).joined(separator: ","),
                            "source": subnet,
                        ]))
            }
        }
        return items
    }
}
