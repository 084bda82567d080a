import AiosCore
import AiosLinux
import AiosStore

/// A list's new content applied from its index (`ListIndex`): only the lines that changed are
/// parsed, the list's zone file and the include file are patched, and the resolver gets the
/// difference, without a pass over the million names of a big list.
extension BlockZones {
    /// A content waiting to be indexed after the answer that made it active.
    struct PendingIndex: Sendable {
        var generation: Int
        var content: [UInt8]
        var parsed: ParsedBlocklist
        var zones: Set<String>
    }

    /// List `list` takes `content` by the full path: its index no longer describes it. The index
    /// of the new content is built by `buildPendingIndexes`, after the answer.
    func contentReplaced(_ list: String, content: [UInt8], parsed: ParsedBlocklist, zones: Set<String>) {
        indexes[list] = nil
        generations[list, default: 0] += 1
        pending[list] = PendingIndex(
            generation: generations[list] ?? 0, content: content, parsed: parsed, zones: zones)
    }

    /// The lists with an index.
    func indexedLists() -> Set<String> { Set(indexes.keys) }

    /// Builds the indexes waiting (off the actor and at a low priority: a big list takes a while); one for
    /// a content replaced again meanwhile is dropped.
    func buildPendingIndexes() async {
        while let (list, job) = pending.first {
            pending[list] = nil
            let built = try? await Offload.bulk {
                ListIndex(content: job.content, parsed: job.parsed, zones: job.zones)
            }
            if let built, generations[list] == job.generation { indexes[list] = built }
        }
    }

    /// Applies `content` as list `list`'s new content from its index.
    /// - Parameters:
    ///   - check: refuses an update (then nothing changes).
    ///   - persist: stores the list's record for the update; runs after the list's zone file is
    ///     written and before the resolver changes.
    /// - Returns: nil when the list has no index (the caller takes the full path).
    func applyListChange(
        _ list: String, content: [UInt8], settings: DNSSettings, check: (ListIndex.Update) throws -> Void,
        persist: @Sendable (ListIndex.Update) async throws -> Void,
        progress: @escaping @Sendable (CallProgress) -> Void
    ) async throws -> (update: ListIndex.Update, report: Report)? {
        try await lock.withLock {
            guard let index = indexes[list] else { return nil }
            // Off the actor and at a low priority: a million lines' hashes.
            let update = try await Offload.bulk { index.update(to: content) }
            try check(update)
            let lists = try await store.blocklists()
            let keyBefore = listKey(lists)
            let zonesChanged = !update.addedZones.isEmpty || !update.removedZones.isEmpty
            if zonesChanged {
                let path = paths.zones(list)
                try await Offload.bulk {
                    try ZoneFiles.patchZones(path, removing: Set(update.removedZones), adding: update.addedZones)
                }
            }
            do {
                try await persist(update)
            } catch {
                indexes[list] = nil
                forgetLoaded()
                throw error
            }
            index.apply(update)
            generations[list, default: 0] += 1
            let memoHolds =
                memoIsLoaded && memo?.listKey == keyBefore && memo?.type == settings.blockZoneType
                && memo?.lists.contains(list) == true
            guard memoHolds else { return (update, try await syncLocked(settings, progress: progress)) }
            // The union of the lists' zones, changed in place (a copy would be a million entries).
            for zone in update.addedZones { memo!.listZones.insert(zone) }
            for zone in update.removedZones
            where !indexes.contains(where: { $0.key != list && $0.value.zones.contains(zone) }) {
                if memo!.lists.allSatisfy({ indexes[$0] != nil }) {
                    memo!.listZones.remove(zone)
                } else {
                    // Another list without an index may block it too: work it out from the files.
                    return (update, try await fullSync(settings, progress: progress))
                }
            }
            memo!.listKey = listKey(lists)
            // The list's exceptions are allowed names in the store: they change with it.
            let singles = Set(try await store.dnsNames(kind: "block").map(\.name))
            let allowed = Set(try await store.dnsNames(kind: "allow").map(\.name))
            var roots = Set(update.addedZones).union(update.removedZones)
            roots.formUnion(memo!.singles.symmetricDifference(singles))
            roots.formUnion(memo!.allowed.symmetricDifference(allowed))
            memo!.singles = singles
            memo!.allowed = allowed
            return (update, try await applyDelta(roots: roots, settings: settings, progress: progress))
        }
    }

    /// A sync from every list's zones.
    private func fullSync(_ settings: DNSSettings, progress: @escaping @Sendable (CallProgress) -> Void)
        async throws -> Report
    {
        memoIsLoaded = false
        return try await syncLocked(settings, progress: progress)
    }
}
