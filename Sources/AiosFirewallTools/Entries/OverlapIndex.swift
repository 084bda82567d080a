/// Finds set elements the kernel would refuse: a concatenated interval set rejects a new element
/// whose first or last point lies inside an existing element (measured on kernel 6.18 / nft 1.0.6).
/// Checking in the plan turns that into a clear error naming the rule in the way. Elements of the
/// exact (hash) sets cannot overlap and are neither indexed nor checked.
///
/// Elements are bucketed by everything but the source range; within a bucket the sources are
/// sorted, and prefix maxima of the range ends answer "does any other element contain this
/// point" in O(log n), so a 100k batch is checked in well under a second.
struct OverlapIndex: Sendable {
    struct Entry: Sendable {
        var element: Element
        var owner: String
    }

    private struct Bucket: Sendable {
        var set: String
        var interface: String?
        var destination: AddressRange
        var protocols: PortRange
        var ports: PortRange
        var entries: [Entry] = []
        /// After `seal`: entries sorted by source low; best and second-best source high seen so far.
        var best: [(high: UInt128, index: Int)] = []
        var second: [UInt128] = []
    }

    /// Everything but the source range.
    private struct BucketKey: Hashable, Sendable {
        var set: String
        var interface: String?
        var destination: ClosedRange<UInt128>
        var protocols: ClosedRange<Int>
        var ports: ClosedRange<Int>
    }

    private var buckets: [BucketKey: Bucket] = [:]
    private var bySet: [String: [BucketKey]] = [:]

    init(_ entries: [Entry]) {
        for entry in entries where !entry.element.shape.isExact {
            let element = entry.element
            let key = BucketKey(
                set: element.set, interface: element.interface,
                destination: element.destination.low...element.destination.high,
                protocols: element.protocols.low...element.protocols.high, ports: element.ports.low...element.ports.high
            )
            if buckets[key] == nil {
                buckets[key] = Bucket(
                    set: element.set, interface: element.interface, destination: element.destination,
                    protocols: element.protocols, ports: element.ports)
                bySet[element.set, default: []].append(key)
            }
            buckets[key]!.entries.append(entry)
        }
        for key in buckets.keys {
            buckets[key]!.entries.sort { $0.element.source.low < $1.element.source.low }
            var best: [(UInt128, Int)] = []
            var second: [UInt128] = []
            var top: (UInt128, Int) = (0, -1)
            var runnerUp: UInt128 = 0
            for (index, entry) in buckets[key]!.entries.enumerated() {
                let high = entry.element.source.high
                if top.1 < 0 || high > top.0 {
                    runnerUp = top.1 < 0 ? 0 : top.0
                    top = (high, index)
                } else if high > runnerUp {
                    runnerUp = high
                }
                best.append(top)
                second.append(runnerUp)
            }
            buckets[key]!.best = best.map { (high: $0.0, index: $0.1) }
            buckets[key]!.second = second
        }
    }

    /// The owner of another element (not `element` itself) that contains `element`'s first or
    /// last point, if any.
    func conflict(for element: Element, owner: String) -> String? {
        guard !element.shape.isExact else { return nil }
        for point in [
            (element.source.low, element.destination.low, element.protocols.low, element.ports.low),
            (element.source.high, element.destination.high, element.protocols.high, element.ports.high),
        ] {
            for key in bySet[element.set] ?? [] {
                let bucket = buckets[key]!
                guard bucket.interface == element.interface, bucket.destination.contains(point.1),
                    (bucket.protocols.low...bucket.protocols.high).contains(point.2),
                    (bucket.ports.low...bucket.ports.high).contains(point.3)
                else { continue }
                if let other = containing(point.0, in: bucket, excluding: element, owner: owner) { return other }
            }
        }
        return nil
    }

    private func containing(_ source: UInt128, in bucket: Bucket, excluding element: Element, owner: String) -> String?
    {
        // Last entry whose source starts at or before the point.
        var low = 0
        var high = bucket.entries.count
        while low < high {
            let middle = (low + high) / 2
            if bucket.entries[middle].element.source.low <= source { low = middle + 1 } else { high = middle }
        }
        let last = low - 1
        guard last >= 0 else { return nil }
        let top = bucket.best[last]
        guard top.high >= source else { return nil }
        let candidate = bucket.entries[top.index]
        // The same element of the same rule is itself; of another rule it would be shared, and
        // removing either rule would delete it under the other.
        if candidate.element != element || candidate.owner != owner { return candidate.owner }
        // The best is the element itself: any other element reaching the point will do.
        guard bucket.second[last] >= source else { return nil }
        for index in stride(from: last, through: 0, by: -1) where index != top.index {
            let entry = bucket.entries[index]
            if entry.element.source.high >= source && (entry.element != element || entry.owner != owner) {
                return entry.owner
            }
        }
        return nil
    }
}
