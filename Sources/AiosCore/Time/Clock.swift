#if canImport(Glibc)
    import Glibc
#endif

/// The one clock: wall time in epoch milliseconds and sleeping, injectable so tests control time.
public protocol Clock: Sendable {
    /// Now, in milliseconds since the Unix epoch.
    func nowMs() -> Int64
    /// Suspends for `milliseconds` (test clocks may advance instantly).
    func sleep(milliseconds: Int64) async throws
    /// Suspends until `nowMs()` reaches `deadline` (epoch ms): a deadline, not a duration, so a
    /// clock a test moves cannot move past it between the caller's reading and the sleep.
    func sleep(untilMs deadline: Int64) async throws
}

extension Clock {
    public func sleep(untilMs deadline: Int64) async throws {
        let left = deadline - nowMs()
        if left > 0 { try await sleep(milliseconds: left) }
    }
}

/// The system's clock.
public struct SystemClock: Clock {
    /// Creates the system clock.
    public init() {}

    public func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    public func sleep(milliseconds: Int64) async throws {
        try await Task.sleep(for: .milliseconds(max(0, milliseconds)))
    }
}
