public import AiosCore

/// Planning alone, for `aios-bench planning` (no store, no kernel): `entries` as a batch's tree.
@_spi(Bench) public enum PlanningBench {
    /// Seconds per planning pass of `input` (an allow input with `entries`), `times` passes.
    public static func run(_ input: JSONValue, times: Int) async throws -> [Double] {
        let decoded = try EntriesInput(tree: input)
        var seconds: [Double] = []
        for _ in 0..<times {
            let start = ContinuousClock.now
            let batch = try await EntryPlanner.prepare(
                decoded.items,
                EntryPlanner.Batch.Context(
                    defaults: decoded.rule, verdict: "allow", now: 1_000_000, limit: nil, origin: "user",
                    single: decoded.entries == nil, current: ActiveRules.Snapshot()))
            let elapsed = ContinuousClock.now - start
            precondition(batch.count == decoded.entries?.count ?? 1)
            seconds.append(elapsed / .seconds(1))
        }
        return seconds
    }
}
