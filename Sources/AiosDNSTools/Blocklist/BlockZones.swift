import AiosCore
import AiosLinux
import AiosStore
import AiosUnbound
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the resolver blocks, made true: the union of every list's zones and the single blocked
/// names, minus the allowed names (which also get a `transparent` zone when they lie below a
/// blocked one), pruned to minimal zones. Kept in the include file unbound reads at start, and
/// changed in the running unbound by the difference only, in small batches over the control
/// socket, so the cache stays and answers keep flowing (a `reload` goes dark for seconds at a
/// million names; one 10k batch pauses answers for ~0.2 s).
///
/// Between calls it keeps what it last made true (`loaded`, and what that was made of), so a
/// change of a few names — one `dns.block`, a refresh that changes a few lines of a big list
/// (`ListIndex`) — is worked out from the zones in force (`ZoneDelta`) and written as a patch of
/// the files, never recomputed from a million names.
actor BlockZones {
    let paths: DNSPaths
    let store: Store
    let resolver: any ResolverControl
    var loaded: [String: String]?
    let lock = AsyncLock()

    /// Names per control command: small enough that one batch pauses answers for milliseconds.
    static let batchSize = 500
    /// Past this many zone changes a new unbound replaces the running one instead of batches
    /// (`ManagedResolver.replace`): batches cost unbound tens of microseconds a zone, a start with a million zones a few
    /// seconds, so from about here on a start is sooner (`Benchmarks/README.md`, DNS).
    static let replaceAbove = 20_000

    typealias Report = ZoneSyncReport

    /// A test hook: `zones-mid-load` dies (SIGKILL) after the tenth batch of a load.
    let crashPoint: String?

    init(paths: DNSPaths, store: Store, resolver: any ResolverControl, crashPoint: String? = nil) {
        self.paths = paths
        self.store = store
        self.resolver = resolver
        self.crashPoint = crashPoint
    }

    /// What `loaded` was made of, so that a change of some names is worked out from it.
    struct Memo {
        /// The lists' names and their zone files' sizes and times.
        var listKey: String
        /// The lists' names.
        var lists: [String]
        /// The union of the lists' zones.
        var listZones: Set<String>
        var singles: Set<String>
        var allowed: Set<String>
        var type: String
    }
    var memo: Memo?
    /// `memo` describes `loaded` exactly (cleared whenever `loaded` is set another way).
    var memoIsLoaded = false
    /// The `transparent` zones in `loaded`.
    var exceptionCount = 0

    /// Each list's content indexed by line (`ListIndex`), built after the answer that made it
    /// active; a list without one takes the full path at its next refresh.
    var indexes: [String: ListIndex] = [:]
    /// Counts the contents each list was given, so that an index built for an older one is dropped.
    var generations: [String: Int] = [:]
    /// Contents to index after the answer (`buildPendingIndexes`).
    var pending: [String: PendingIndex] = [:]

    /// Zones in force (as last synced or read from the include file).
    func counts() -> (zones: Int, exceptions: Int) {
        let current = loaded ?? ZoneFiles.readInclude(paths.blocklistInclude)
        let exceptions = current.values.filter { $0 == "transparent" }.count
        return (current.count - exceptions, exceptions)
    }

    /// Recomputes what should be blocked and applies the difference.
    func sync(_ settings: DNSSettings, progress: @escaping @Sendable (CallProgress) -> Void = { _ in }) async throws
        -> Report
    {
        try await lock.withLock { try await syncLocked(settings, progress: progress) }
    }

    /// Forgets what is loaded (after unbound restarted it has the include file's state again).
    func resolverRestarted() {
        loaded = ZoneFiles.readInclude(paths.blocklistInclude)
        memoIsLoaded = false
    }

    /// Makes the running unbound hold what the store says, whatever happened to it: a daemon
    /// killed halfway through loading a big list leaves the include file (and the store) with the
    /// whole list and the adopted unbound with part of it. A random sample of the zones it should
    /// block is asked of it first (an answer from a local zone carries AA; a forwarded one does
    /// not): when every one holds, nothing more is done — listing a million zones back would
    /// hold unbound's answers for seconds. When one does not, what it holds is read back
    /// (`list_local_zones`) and the difference sent in batches, or, past `replaceAbove` zones, a
    /// new unbound replaces it (no gap in answers). Run when a running unbound is adopted and at
    /// a refresh.
    func verify(_ settings: DNSSettings) async throws -> Report {
        try await lock.withLock {
            guard await resolver.runningPID != nil else { return try await syncLocked(settings, progress: { _ in }) }
            let missing = await sampleMissing(settings: settings)
            guard missing > 0 else {
                // It holds what the include file says: nothing to send (what `loaded` says already
                // is the include file after a sync of this daemon's).
                if !memoIsLoaded { loaded = ZoneFiles.readInclude(paths.blocklistInclude) }
                let (zones, exceptions) = counts()
                return Report(
                    added: 0, removed: 0, zones: zones, exceptions: exceptions, batches: 0, slowestBatchMs: 0,
                    live: true)
            }
            let include = ZoneFiles.readInclude(paths.blocklistInclude)
            if include.count > Self.replaceAbove, try await resolver.replace(settings) {
                loaded = include
                memoIsLoaded = false
                var report = try await syncLocked(settings, progress: { _ in })
                report.replaced = true
                return report
            }
            loaded = try await held(include: include)
            memoIsLoaded = false
            return try await syncLocked(settings, progress: { _ in })
        }
    }

    /// How many of a random sample (up to `sampleSize`) of the include file's blocking zones
    /// the running unbound does not block.
    private func sampleMissing(settings: DNSSettings) async -> Int {
        let sample = ZoneFiles.sampleInclude(paths.blocklistInclude, count: Self.sampleSize)
            .filter { $0.type != "transparent" }
        guard !sample.isEmpty else { return 0 }
        let address = ["0.0.0.0", "::"].contains(settings.listenAddress) ? "127.0.0.1" : settings.listenAddress
        let port = settings.port
        return
            (try? await Offload.run {
                sample.filter { zone, type in
                    guard let reply = try? DNSProbe.query(zone, address: address, port: port, timeoutMs: 1000) else {
                        return true
                    }
                    let blocked = type == "always_null" ? reply.rcode == 0 && reply.answers > 0 : reply.rcode == 3
                    return !(reply.authoritative && blocked)
                }.count
            }) ?? sample.count
    }

    /// Zones a verification asks of the running unbound.
    static let sampleSize = 64

    /// The blocking zones (and exceptions) the running unbound holds, by its own listing: its
    /// built-in zones (localhost, reverse zones) and those local records imply are left out.
    private func held(include: [String: String]) async throws -> [String: String] {
        let listing = try await resolver.run("list_local_zones")
        var out: [String: String] = [:]
        for line in listing.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            let type = String(parts[1])
            guard ["always_nxdomain", "always_null", "transparent"].contains(type) else { continue }
            var zone = parts[0]
            if zone.hasSuffix(".") { zone = zone.dropLast() }
            out[String(zone)] = type
        }
        // A transparent zone is ours only when the include file has it (records make them too).
        return out.filter { $0.value != "transparent" || include[$0.key] == "transparent" }
    }

    func listKey(_ lists: [BlocklistRecord]) -> String {
        lists.map { list in
            let attributes = try? FileManager.default.attributesOfItem(atPath: paths.zones(list.name))
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let time = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(list.name):\(size):\(time)"
        }.joined(separator: ",")
    }

    /// Brings `loaded` to what the store says: from the memo when only single names changed,
    /// from every list's zones otherwise.
    func syncLocked(_ settings: DNSSettings, progress: @escaping @Sendable (CallProgress) -> Void) async throws
        -> Report
    {
        let lists = try await store.blocklists()
        let key = listKey(lists)
        let singles = Set(try await store.dnsNames(kind: "block").map(\.name))
        let allowed = Set(try await store.dnsNames(kind: "allow").map(\.name))
        let type = settings.blockZoneType
        indexes = indexes.filter { name, _ in lists.contains { $0.name == name } }
        if memoIsLoaded, let memo, memo.listKey == key, memo.type == type {
            let roots = memo.singles.symmetricDifference(singles).union(memo.allowed.symmetricDifference(allowed))
            self.memo?.singles = singles
            self.memo?.allowed = allowed
            return try await applyDelta(roots: roots, settings: settings, progress: progress)
        }
        var listZones = Set<String>()
        for list in lists {
            for zone in ZoneFiles.readZones(paths.zones(list.name)) { listZones.insert(zone) }
        }
        let (block, transparent): (Set<String>, Set<String>)
        if lists.count == 1, singles.isEmpty {
            // One list alone: its zone file is minimal already (the ingest pruned it), and
            // dropping allowed names keeps it so — no second pass over a million names.
            let kept = allowed.isEmpty ? listZones : listZones.filter { !ZoneSet.covered($0, by: allowed) }
            block = kept
            transparent = allowed.filter { ZoneSet.hasListedParent($0, in: kept) || kept.contains($0) }
        } else {
            (block, transparent) = ZoneSet.effective(blocked: listZones.union(singles), allowed: allowed)
        }
        var desired: [String: String] = [:]
        desired.reserveCapacity(block.count + transparent.count)
        for zone in block { desired[zone] = type }
        for zone in transparent { desired[zone] = "transparent" }
        let current = loaded ?? ZoneFiles.readInclude(paths.blocklistInclude)
        // Zones only, their lines made per batch: a first load needs none when it replaces.
        var added: [String] = []
        var removals: [String] = []
        for (zone, type) in desired where current[zone] != type { added.append(zone) }
        for zone in current.keys where desired[zone] == nil { removals.append(zone) }
        memo = Memo(
            listKey: key, lists: lists.map(\.name), listZones: listZones, singles: singles, allowed: allowed, type: type
        )
        exceptionCount = transparent.count
        if !added.isEmpty || !removals.isEmpty || !FileManager.default.fileExists(atPath: paths.blocklistInclude) {
            try writeInclude(ZoneFiles.include(desired))
        }
        loaded = desired
        return try await send(added: added, removals: removals, settings: settings, progress: progress)
    }

    /// Applies a change of the names in `roots` (blocked, allowed or listed) from the memo:
    /// only they and the names below them can change.
    func applyDelta(
        roots: Set<String>, settings: DNSSettings, progress: @escaping @Sendable (CallProgress) -> Void
    ) async throws -> Report {
        guard let memo, var current = loaded.take() else { throw AiosError(.internal, "no zones in memory") }
        // Taken out of `loaded` (not copied: a million entries) and put back below.
        var names = Array(roots)
        names += ZoneDelta.below(roots, in: memo.singles.union(memo.allowed))
        // The lists' zones below a root, scanned for only when a list may have any.
        let withChildren = roots.filter(mayHaveListedChildren)
        if !withChildren.isEmpty { names += ZoneDelta.below(withChildren, in: memo.listZones) }
        let (additions, removals, exceptionChange) = ZoneDelta.apply(
            to: &current, names: names,
            isBlocked: { memo.listZones.contains($0) || memo.singles.contains($0) },
            isAllowed: { memo.allowed.contains($0) }, type: memo.type)
        loaded = current
        exceptionCount += exceptionChange
        let added = additions.map(\.zone)
        guard !added.isEmpty || !removals.isEmpty else {
            return try await send(added: [], removals: [], settings: settings, progress: progress)
        }
        let changed = Set(removals).union(added)
        let paths = paths
        let patch: @Sendable () throws -> Void = {
            try Self.writeInclude(
                ZoneFiles.patchedInclude(paths.blocklistInclude, dropping: changed, adding: additions), paths: paths)
        }
        guard added.count + removals.count <= Self.replaceAbove, await resolver.runningPID != nil else {
            // A new unbound reads the include file: it is written first.
            do { try patch() } catch {
                forgetLoaded()
                throw error
            }
            return try await send(added: added, removals: removals, settings: settings, progress: progress)
        }
        // Batches keep unbound busy and this process mostly waiting: the include file (tens of
        // megabytes at a million zones) is patched meanwhile, on a thread of its own.
        async let written: Void = Offload.bulk(patch)
        let report: Report
        do {
            report = try await send(added: added, removals: removals, settings: settings, progress: progress)
        } catch {
            try? await written
            throw error
        }
        do { try await written } catch {
            forgetLoaded()
            throw error
        }
        return report
    }

    /// True unless no list (indexed) has a name below `name`.
    private func mayHaveListedChildren(_ name: String) -> Bool {
        guard let lists = memo?.lists, lists.allSatisfy({ indexes[$0] != nil }) else { return true }
        let hash = ListIndex.hash(name)
        return indexes.values.contains { $0.parents.contains(hash) }
    }

    /// Sends the difference to the running unbound (`loaded` already holds the result, and the
    /// types of `added`): a new unbound when it is large, batches otherwise.
    private func send(
        added: [String], removals: [String], settings: DNSSettings,
        progress: @escaping @Sendable (CallProgress) -> Void
    ) async throws -> Report {
        let desired = loaded ?? [:]
        let count = added.count
        let lines: (Range<Int>) -> [String] = { range in
            added[range].map { "\($0) \(desired[$0] ?? "always_nxdomain")" }
        }
        memoIsLoaded = true
        let total = loaded?.count ?? 0
        var report = Report(
            added: count, removed: removals.count, zones: total - exceptionCount, exceptions: exceptionCount,
            batches: 0, slowestBatchMs: 0, live: false)
        guard await resolver.runningPID != nil else { return report }
        report.live = true
        if count + removals.count > Self.replaceAbove {
            // Batches would take longer than a new unbound reading the include file: one takes
            // over the running one's sockets and cache, with no gap in answers.
            do {
                report.replaced = try await resolver.replace(settings)
            } catch {
                forgetLoaded()
                throw error
            }
            if report.replaced { return report }
        }
        let changes = count + removals.count
        var done = 0
        let batches: [(String, Int, (Range<Int>) -> [String])] = [
            ("local_zones_remove", removals.count, { Array(removals[$0]) }), ("local_zones", count, lines),
        ]
        for (command, size, slice) in batches {
            for start in stride(from: 0, to: size, by: Self.batchSize) {
                let batch = slice(start..<min(size, start + Self.batchSize))
                let began = ContinuousClock.now
                do {
                    _ = try await resolver.run(command, input: batch)
                } catch {
                    // The include file holds the new state; what unbound has is unknown now.
                    forgetLoaded()
                    throw AiosError(
                        .unavailable, "the resolver stopped taking changes (\(error)); it loads them when it restarts",
                        cause: error)
                }
                let elapsed = ContinuousClock.now - began
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                report.slowestBatchMs = max(report.slowestBatchMs, ms)
                report.batches += 1
                if report.batches == 10, crashPoint == "zones-mid-load" { kill(getpid(), SIGKILL) }
                done += batch.count
                if report.batches % 20 == 0 {
                    progress(CallProgress(stage: "loading zones", done: done, total: changes))
                }
            }
        }
        return report
    }

    func forgetLoaded() {
        loaded = nil
        memoIsLoaded = false
    }

    func writeInclude(_ bytes: [UInt8]) throws { try Self.writeInclude(bytes, paths: paths) }

    static func writeInclude(_ bytes: [UInt8], paths: DNSPaths) throws {
        do {
            try paths.ensureDirectories()
            // Not fsynced: the store is the truth; every start compares this file with it and
            // writes it again when they differ.
            try AtomicFile.write(bytes, to: paths.blocklistInclude, durable: false)
        } catch {
            throw AiosError(.unavailable, "cannot write \(paths.blocklistInclude): \(error)", cause: error)
        }
    }
}

/// What syncing the blocked zones did.
public struct ZoneSyncReport: Codable, Sendable, Equatable {
    /// Zones (or type changes) added to the resolver.
    public var added: Int
    /// Zones removed.
    public var removed: Int
    /// Blocked zones in force afterwards.
    public var zones: Int
    /// Exceptions (`transparent` zones) in force afterwards.
    public var exceptions: Int
    /// Control commands sent, and the slowest one in milliseconds.
    public var batches: Int
    public var slowestBatchMs: Double
    /// False when unbound was not running (the include file is up to date; it loads at start).
    public var live: Bool
    /// True when the change was big enough that a new unbound replaced the running one (no
    /// batches; no gap in answers; the cache starts cold).
    public var replaced = false

    enum CodingKeys: String, CodingKey {
        case added, removed, zones, exceptions, batches, live, replaced
        case slowestBatchMs = "slowest_batch_ms"
    }
}
