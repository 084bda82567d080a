/// One list's active content, indexed by line and kept in memory between refreshes, so that a
/// refresh that changes a few lines of a million parses only those lines and touches only the
/// zones they change: parsing a million lines, or any pass over a million names (each a separate
/// allocation), costs more than the rest of a small refresh together.
///
/// Lines are compared by a 64-bit hash (Swift's per-process seeded SipHash; nothing leaves the
/// process), names by value. Parsing is line by line (`BlocklistParser.parse(line:…)`), so the
/// names of a list are the names of its lines: what lines went and came decides what names did,
/// given how many lines name each.
///
/// A class, not a value: a refresh reads it on a bulk thread (`Offload.bulk`) and then changes it,
/// and a value shared with that thread would be copied whole (a million entries) at the change.
/// `BlockZones` owns every index and reads or changes one only while it holds its lock, so no two
/// threads ever touch one at once.
final class ListIndex: @unchecked Sendable {
    /// The content indexed (kept to re-read the lines a refresh removes).
    private(set) var content: [UInt8]
    /// Each distinct line's hash, and how many times it occurs.
    private var lineCounts: [Int: UInt32]
    /// The hashes of lines the parser skipped (read again at a refresh, to report them with
    /// their new line numbers).
    private var skippedLines: Set<Int>
    private(set) var names: Set<String>
    /// Names given by more than one line: lines beyond the first.
    private var repeats: [String: UInt32]
    private(set) var exceptions: Set<String>
    private var exceptionRepeats: [String: UInt32]
    /// The list's zones (its names pruned to the minimal set).
    private(set) var zones: Set<String>
    /// The hashes of every proper parent of every name the list held since it was indexed: a
    /// name whose hash is not here has no name below it, so no scan is needed to find them.
    private(set) var parents: Set<Int>
    private var localNames: Int

    /// Indexes `content`, parsed as `parsed` and pruned to `zones` (run after the answer: a
    /// a big list's lines take a while).
    init(content: [UInt8], parsed: ParsedBlocklist, zones: Set<String>) {
        self.content = content
        // What the walks change goes through as `inout` (see `BlocklistParser.parse`).
        var walk = (
            counts: [Int: UInt32](minimumCapacity: parsed.lines), skipped: Set<Int>(), pending: parsed.skippedLines[...]
        )
        BlocklistParser.forEachLine(content, &walk) { walk, line, number, _ in
            let hash = Self.hash(line)
            walk.counts[hash, default: 0] += 1
            if walk.pending.first == number {
                walk.skipped.insert(hash)
                walk.pending.removeFirst()
            }
        }
        lineCounts = walk.counts
        skippedLines = walk.skipped
        names = parsed.names
        repeats = Self.counts(parsed.repeated)
        exceptions = parsed.exceptions
        exceptionRepeats = Self.counts(parsed.repeatedExceptions)
        self.zones = zones
        var parents = Set<Int>()
        for name in parsed.names { Self.forEachParentHash(of: name) { parents.insert($0) } }
        self.parents = parents
        localNames = parsed.localNames
    }

    /// What a new content changes, worked out without changing the index.
    struct Update: Sendable {
        var content: [UInt8]
        /// Line hashes that appear more (positive) or fewer times (negative).
        fileprivate var lineChanges: [Int: Int]
        fileprivate var newSkippedLines: Set<Int>
        /// Names the list gains and loses, with the repeat counts of names it keeps.
        var addedNames: Set<String>
        var removedNames: Set<String>
        fileprivate var repeatChanges: [String: Int]
        var addedExceptions: Set<String>
        var removedExceptions: Set<String>
        fileprivate var exceptionRepeatChanges: [String: Int]
        /// Zones the list gains and loses.
        var addedZones: [String]
        var removedZones: [String]
        /// The new content's figures, as a full parse gives them.
        var lines: Int
        var unique: Int
        var zoneCount: Int
        var exceptionCount: Int
        var skipped: Int
        var skippedExamples: [SkippedLine]
        var localNames: Int

        /// True when the list blocks and excepts what it did.
        var sameNames: Bool {
            addedNames.isEmpty && removedNames.isEmpty && addedExceptions.isEmpty && removedExceptions.isEmpty
        }
    }

    /// What replacing the content with `content` changes. Reads every line's hash once, parses
    /// only the lines that are new or were skipped, and re-reads the removed ones from the old
    /// content.
    func update(to content: [UInt8]) -> Update {
        struct Walk {
            var remaining: [Int: UInt32]
            var added = ParsedBlocklist()
            var known = ParsedBlocklist()
            var lineChanges: [Int: Int] = [:]
            var newSkipped = Set<Int>()
        }
        var walk = Walk(remaining: lineCounts)
        let skippedLines = skippedLines
        let lines = BlocklistParser.forEachLine(content, &walk) { walk, line, number, _ in
            let hash = Self.hash(line)
            if let count = walk.remaining[hash], count > 0 {
                walk.remaining[hash] = count - 1
                // A skipped line reports again, under its new number.
                if skippedLines.contains(hash) { BlocklistParser.parse(line: line, number: number, into: &walk.known) }
                return
            }
            walk.lineChanges[hash, default: 0] += 1
            let before = walk.added.skipped
            BlocklistParser.parse(line: line, number: number, into: &walk.added)
            if walk.added.skipped > before { walk.newSkipped.insert(hash) }
        }
        let (added, known, newSkipped) = (walk.added, walk.known, walk.newSkipped)
        var lineChanges = walk.lineChanges
        var gone = (counts: [Int: UInt32](), removed: ParsedBlocklist())
        for (hash, count) in walk.remaining where count > 0 {
            gone.counts[hash] = count
            lineChanges[hash, default: 0] -= Int(count)
        }
        walk.remaining = [:]
        if !gone.counts.isEmpty {
            BlocklistParser.forEachLine(self.content, &gone) { gone, line, number, _ in
                let hash = Self.hash(line)
                guard let count = gone.counts[hash], count > 0 else { return }
                gone.counts[hash] = count - 1
                BlocklistParser.parse(line: line, number: number, into: &gone.removed)
            }
        }
        let removed = gone.removed
        let (addedNames, removedNames, repeatChanges) = Self.changes(
            present: names, repeats: repeats, gone: removed.names, goneRepeats: Self.counts(removed.repeated),
            came: added.names, cameRepeats: Self.counts(added.repeated))
        let (addedExceptions, removedExceptions, exceptionRepeatChanges) = Self.changes(
            present: exceptions, repeats: exceptionRepeats, gone: removed.exceptions,
            goneRepeats: Self.counts(removed.repeatedExceptions), came: added.exceptions,
            cameRepeats: Self.counts(added.repeatedExceptions))
        let (addedZones, removedZones) = zoneChanges(added: addedNames, removed: removedNames)
        let examples = (added.skippedExamples + known.skippedExamples).sorted { $0.line < $1.line }
        return Update(
            content: content, lineChanges: lineChanges, newSkippedLines: newSkipped, addedNames: addedNames,
            removedNames: removedNames, repeatChanges: repeatChanges, addedExceptions: addedExceptions,
            removedExceptions: removedExceptions, exceptionRepeatChanges: exceptionRepeatChanges,
            addedZones: addedZones, removedZones: removedZones, lines: lines,
            unique: names.count + addedNames.count - removedNames.count,
            zoneCount: zones.count + addedZones.count - removedZones.count,
            exceptionCount: exceptions.count + addedExceptions.count - removedExceptions.count,
            skipped: added.skipped + known.skipped,
            skippedExamples: Array(examples.prefix(BlocklistParser.exampleLimit)),
            localNames: localNames - removed.localNames + added.localNames)
    }

    /// Makes `update` the indexed content.
    func apply(_ update: Update) {
        content = update.content
        for (hash, change) in update.lineChanges {
            let count = Int(lineCounts[hash] ?? 0) + change
            lineCounts[hash] = count > 0 ? UInt32(count) : nil
            if count <= 0 { skippedLines.remove(hash) }
        }
        skippedLines.formUnion(update.newSkippedLines)
        names.subtract(update.removedNames)
        names.formUnion(update.addedNames)
        Self.apply(update.repeatChanges, to: &repeats)
        exceptions.subtract(update.removedExceptions)
        exceptions.formUnion(update.addedExceptions)
        Self.apply(update.exceptionRepeatChanges, to: &exceptionRepeats)
        for zone in update.removedZones { zones.remove(zone) }
        for zone in update.addedZones { zones.insert(zone) }
        for name in update.addedNames { Self.forEachParentHash(of: name) { parents.insert($0) } }
        localNames = update.localNames
    }

    private static func counts(_ names: [String]) -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for name in names { out[name, default: 0] += 1 }
        return out
    }

    private static func apply(_ changes: [String: Int], to repeats: inout [String: UInt32]) {
        for (name, change) in changes {
            let count = Int(repeats[name] ?? 0) + change
            repeats[name] = count > 0 ? UInt32(count) : nil
        }
    }

    /// Which names come and go when lines naming `gone` (with `goneRepeats`) leave and lines
    /// naming `came` arrive, and how the repeat counts of the others change.
    private static func changes(
        present: Set<String>, repeats: [String: UInt32], gone: Set<String>, goneRepeats: [String: UInt32],
        came: Set<String>, cameRepeats: [String: UInt32]
    ) -> (added: Set<String>, removed: Set<String>, repeats: [String: Int]) {
        var added = Set<String>()
        var removed = Set<String>()
        var repeatChanges: [String: Int] = [:]
        for name in gone.union(came) {
            let before = present.contains(name) ? 1 + Int(repeats[name] ?? 0) : 0
            let lost = gone.contains(name) ? 1 + Int(goneRepeats[name] ?? 0) : 0
            let gained = came.contains(name) ? 1 + Int(cameRepeats[name] ?? 0) : 0
            let after = before - lost + gained
            if before == 0, after > 0 { added.insert(name) }
            if before > 0, after <= 0 { removed.insert(name) }
            let repeatChange = max(0, after - 1) - max(0, before - 1)
            if repeatChange != 0 { repeatChanges[name] = repeatChange }
        }
        return (added, removed, repeatChanges)
    }

    /// The zones the list gains and loses when it gains `added` names and loses `removed`: only
    /// a changed name and the names below it can change (a name is a zone when it is listed and
    /// no parent is). Names below a changed one are found by a scan, done only when one may have
    /// any (`parents`).
    private func zoneChanges(added: Set<String>, removed: Set<String>) -> (added: [String], removed: [String]) {
        func listed(_ name: String) -> Bool {
            (names.contains(name) && !removed.contains(name)) || added.contains(name)
        }
        let roots = added.union(removed)
        var affected = roots
        let withChildren = roots.filter { parents.contains(Self.hash($0)) }
        if !withChildren.isEmpty {
            for name in names where ZoneSet.parents(of: name).contains(where: { withChildren.contains(String($0)) }) {
                affected.insert(name)
            }
            for name in added where ZoneSet.parents(of: name).contains(where: { withChildren.contains(String($0)) }) {
                affected.insert(name)
            }
        }
        var gained: [String] = []
        var lost: [String] = []
        for name in affected {
            let isZone = listed(name) && !ZoneSet.parents(of: name).contains(where: { listed(String($0)) })
            let wasZone = zones.contains(name)
            if isZone && !wasZone { gained.append(name) }
            if wasZone && !isZone { lost.append(name) }
        }
        return (gained, lost)
    }

    /// A line's (or a name's bytes') hash.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }

    /// A name's hash, as `hash(_:)` gives it for the name's bytes.
    static func hash(_ name: String) -> Int {
        var name = name
        return name.withUTF8 { hash($0) }
    }

    /// Calls `body` with the hash of each proper parent of `name` that has two labels or more.
    static func forEachParentHash(of name: String, _ body: (Int) -> Void) {
        var name = name
        name.withUTF8 { bytes in
            var dots: [Int] = []
            for index in bytes.indices where bytes[index] == UInt8(ascii: ".") { dots.append(index) }
            guard dots.count >= 2 else { return }
            for dot in dots.dropLast() {
                body(hash(UnsafeBufferPointer(rebasing: bytes[(dot + 1)...])))
            }
        }
    }
}
