/// Values kept as consecutive runs and read as one collection: a batch planned in chunks joins
/// them without copying 100k values (and their retains) into one array.
struct Runs<Value: Sendable>: RandomAccessCollection, Sendable {
    /// Every run but the last, which `tail` holds (appends go there directly).
    private var sealed: [[Value]] = []
    private var tail: [Value] = []
    /// The positions `sealed` ends at (running totals).
    private var ends: [Int] = []

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { (ends.last ?? 0) + tail.count }

    subscript(position: Int) -> Value {
        guard let last = ends.last, position < last else { return tail[position - (ends.last ?? 0)] }
        var run = 0
        while ends[run] <= position { run += 1 }
        return sealed[run][position - (run == 0 ? 0 : ends[run - 1])]
    }

    /// Appends to the last run.
    mutating func append(_ value: Value) { tail.append(value) }

    /// Room for `count` more in the last run.
    mutating func reserveCapacity(_ count: Int) { tail.reserveCapacity(tail.count + count) }

    /// Appends `other`'s runs after these (their storage is shared, not copied).
    mutating func append(runs other: Runs) {
        for run in other.sealed + [other.tail] where !run.isEmpty {
            if !tail.isEmpty {
                ends.append(endIndex)
                sealed.append(tail)
            }
            tail = run
        }
    }
}
