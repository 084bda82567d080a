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
actor BlockZones {
    let paths: DNSPaths
    let store: Store
    let resolver: ManagedResolver
    private var loaded: [String: String]?
    private let lock = AsyncLock()

    /// Names per control command: small enough that one batch pauses answers for milliseconds.
    static let batchSize = 500
    /// Past this many zone changes a new unbound replaces the running one instead of batches
    /// (`ManagedResolver.replace`): batches take ~47 µs a zone, a start with a million zones
    /// about 4 s, so from here on a start is sooner.
    static let replaceAbove = 20_000

    typealias Report = ZoneSyncReport

    /// A test hook: `zones-mid-load` dies (SIGKILL) after the tenth batch of a load.
    let crashPoint: String?

    init(paths: DNSPaths, store: Store, resolver: ManagedResolver, crashPoint: String? = nil) {
        self.paths = paths
        self.store = store
        self.resolver = resolver
        self.crashPoint = crashPoint
    }

    /// Zones in force (as last synced or read from the include file).
    func counts() -> (zones: Int, exceptions: Int) {
        let current = loaded ?? readInclude()
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
        loaded = readInclude()
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
            let include = readInclude()
            let missing = await sampleMissing(include, settings: settings)
            guard missing > 0 else {
                // It holds what the include file says: nothing to send (what `loaded` says already
                // is the include file after a sync of this daemon's).
                if !memoIsLoaded { loaded = include }
                let exceptions = include.values.lazy.filter { $0 == "transparent" }.count
                return Report(
                    added: 0, removed: 0, zones: include.count - exceptions, exceptions: exceptions, batches: 0,
                    slowestBatchMs: 0, live: true)
            }
            if include.count > Self.replaceAbove, try await resolver.replace(settings) {
                loaded = include
                memoIsLoaded = false
                var report = try await syncLocked(settings, progress: { _ in })
                report.replaced = true
                return report
            }
            loaded = try await held()
            memoIsLoaded = false
            return try await syncLocked(settings, progress: { _ in })
        }
    }

    /// How many of a random sample (up to `sampleSize`) of `include`'s blocking zones the
    /// running unbound does not block.
    private func sampleMissing(_ include: [String: String], settings: DNSSettings) async -> Int {
        let blocking = include.filter { $0.value != "transparent" }
        guard !blocking.isEmpty else { return 0 }
        let sample = (0..<min(Self.sampleSize, blocking.count)).compactMap { _ in blocking.randomElement() }
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
    private func held() async throws -> [String: String] {
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
        let include = readInclude()
        return out.filter { $0.value != "transparent" || include[$0.key] == "transparent" }
    }

    /// What the last full sync read, kept so that a change of a few single names (`dns.block`,
    /// `dns.allow`, …) with the lists unchanged is worked out from the zones in force
    /// (`ZoneDelta`) instead of recomputed from a million list lines.
    private struct Memo {
        /// The lists' names and their zone files' sizes and times.
        var listKey: String
        var listZones: Set<String>
        var singles: Set<String>
        var allowed: Set<String>
        var type: String
    }
    private var memo: Memo?

    /// `memo` describes `loaded` exactly (cleared whenever `loaded` is set another way).
    private var memoIsLoaded = false

    private func listKey(_ lists: [BlocklistRecord]) -> String {
        lists.map { list in
            let attributes = try? FileManager.default.attributesOfItem(atPath: paths.zones(list.name))
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let time = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(list.name):\(size):\(time)"
        }.joined(separator: ",")
    }

    private func syncLocked(_ settings: DNSSettings, progress: @escaping @Sendable (CallProgress) -> Void) async throws
        -> Report
    {
        let lists = try await store.blocklists()
        let key = listKey(lists)
        let singles = Set(try await store.dnsNames(kind: "block").map(\.name))
        let allowed = Set(try await store.dnsNames(kind: "allow").map(\.name))
        let type = settings.blockZoneType
        var desired: [String: String]
        var additions: [String] = []
        var removals: [String] = []
        let roots = memo.map { $0.singles.symmetricDifference(singles).union($0.allowed.symmetricDifference(allowed)) }
        if memoIsLoaded, let memo, memo.listKey == key, memo.type == type, let roots, roots.count <= 64,
            var current = loaded.take()
        {
            // Taken out of `loaded` (not copied: a million entries) and put back below.
            let suffixes = roots.map { "." + $0 }
            func isBelow(_ name: String) -> Bool { roots.contains(name) || suffixes.contains { name.hasSuffix($0) } }
            let below = memo.listZones.filter(isBelow) + singles.filter(isBelow)
            (additions, removals) = ZoneDelta.apply(
                to: &current, roots: roots, isBlocked: { memo.listZones.contains($0) || singles.contains($0) },
                allowed: allowed, type: type, blockedBelow: Array(below))
            desired = current
            self.memo?.singles = singles
            self.memo?.allowed = allowed
        } else {
            var listZones = Set<String>()
            for list in lists {
                for zone in Self.readZones(paths.zones(list.name)) { listZones.insert(zone) }
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
            desired = [:]
            desired.reserveCapacity(block.count + transparent.count)
            for zone in block { desired[zone] = type }
            for zone in transparent { desired[zone] = "transparent" }
            let current = loaded ?? readInclude()
            for (zone, type) in desired where current[zone] != type { additions.append("\(zone) \(type)") }
            for zone in current.keys where desired[zone] == nil { removals.append(zone) }
            memo = Memo(listKey: key, listZones: listZones, singles: singles, allowed: allowed, type: type)
        }
        let transparent = desired.values.lazy.filter { $0 == "transparent" }.count
        if !additions.isEmpty || !removals.isEmpty || !FileManager.default.fileExists(atPath: paths.blocklistInclude) {
            try writeInclude(desired)
        }
        var report = Report(
            added: additions.count, removed: removals.count, zones: desired.count - transparent,
            exceptions: transparent,
            batches: 0, slowestBatchMs: 0, live: false)
        var replaced = false
        if await resolver.runningPID != nil, additions.count + removals.count > Self.replaceAbove {
            // Batches would take longer than a new unbound reading the include file: one takes
            // over the running one's sockets and cache, with no gap in answers.
            do {
                replaced = try await resolver.replace(settings)
            } catch {
                loaded = nil
                memoIsLoaded = false
                throw error
            }
            report.live = true
            report.replaced = replaced
        }
        if !replaced, await resolver.runningPID != nil {
            report.live = true
            let total = additions.count + removals.count
            var done = 0
            for (command, lines) in [("local_zones_remove", removals), ("local_zones", additions)] {
                var start = 0
                while start < lines.count {
                    let batch = Array(lines[start..<min(lines.count, start + Self.batchSize)])
                    let began = ContinuousClock.now
                    do {
                        _ = try await resolver.run(command, input: batch)
                    } catch {
                        // The include file holds the new state; what unbound has is unknown now.
                        loaded = nil
                        memoIsLoaded = false
                        throw AiosError(
                            .unavailable,
                            "the resolver stopped taking changes (\(error)); it loads them when it restarts",
                            cause: error)
                    }
                    let elapsed = ContinuousClock.now - began
                    let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                    report.slowestBatchMs = max(report.slowestBatchMs, ms)
                    report.batches += 1
                    if report.batches == 10, crashPoint == "zones-mid-load" { kill(getpid(), SIGKILL) }
                    start += batch.count
                    done += batch.count
                    if report.batches % 20 == 0 {
                        progress(CallProgress(stage: "loading zones", done: done, total: total))
                    }
                }
            }
        }
        loaded = desired
        memoIsLoaded = true
        return report
    }

    /// One zone per line.
    static func readZones(_ path: String) -> [String] {
        var out: [String] = []
        forEachLine(path) { line in out.append(String(decoding: line, as: UTF8.self)) }
        return out
    }

    /// Calls `body` with each non-empty line of the file at `path`, on its bytes (splitting a
    /// `Data` of a million lines through its generic slices cost a second).
    static func forEachLine(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 10 {
                if index > start { body(UnsafeBufferPointer(rebasing: bytes[start..<index])) }
                start = index + 1
            }
        }
    }

    /// Writes `zones` one per line (atomically).
    static func writeZones(_ zones: some Collection<String>, to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(zones.count * 24)
        for zone in zones {
            bytes.append(contentsOf: zone.utf8)
            bytes.append(10)
        }
        try AtomicFile.write(bytes, to: path)
    }

    private func writeInclude(_ zones: [String: String]) throws {
        var bytes = Array("# Written by aios-net: blocked zones (change them with dns.* tools)\n".utf8)
        bytes.reserveCapacity(zones.count * 48)
        for (zone, type) in zones {
            bytes.append(contentsOf: "local-zone: \"".utf8)
            bytes.append(contentsOf: zone.utf8)
            bytes.append(contentsOf: ".\" ".utf8)
            bytes.append(contentsOf: type.utf8)
            bytes.append(10)
        }
        do {
            try paths.ensureDirectories()
            // Not fsynced: the store is the truth; every start compares this file with it and
            // writes it again when they differ.
            try AtomicFile.write(bytes, to: paths.blocklistInclude, durable: false)
        } catch {
            throw AiosError(.unavailable, "cannot write \(paths.blocklistInclude): \(error)", cause: error)
        }
    }

    private func readInclude() -> [String: String] {
        var out: [String: String] = [:]
        let prefix = Array("local-zone: \"".utf8)
        Self.forEachLine(paths.blocklistInclude) { line in
            guard line.starts(with: prefix) else { return }
            let rest = line[prefix.count...]
            guard let quote = rest.firstIndex(of: UInt8(ascii: "\"")) else { return }
            var name = rest[rest.startIndex..<quote]
            if name.last == UInt8(ascii: ".") { name = name.dropLast() }
            let typeStart = rest.index(quote, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex
            out[String(decoding: name, as: UTF8.self)] = String(decoding: rest[typeStart...], as: UTF8.self)
        }
        return out
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
