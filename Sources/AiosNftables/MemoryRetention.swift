internal import CNftables
import Synchronization

/// Keeps the memory a big transaction freed for the next one, and gives it back once the
/// firewall has been idle for `idle`.
///
/// glibc hands freed memory back to the kernel as soon as an arena's top is free past a threshold
/// (128 KiB, adjusted upward at run time), so each big batch faulted its tens or hundreds of
/// megabytes in again. Enabling retention is a process-wide malloc setting: freed memory stays
/// (allocations up to 32 MiB come from the arenas rather than their own mappings) until, `idle`
/// after the last command of 1 MiB or more, `malloc_trim` returns it.
final class MemoryRetention: Sendable {
    private struct State {
        var lastBigUse: ContinuousClock.Instant?
        var trimScheduled = false
        var trims = 0
    }

    private let state = Mutex(State())
    private let idle: Duration

    /// Switches the process to retention (once) and returns a tracker that trims after `idle`.
    init(idle: Duration) {
        self.idle = idle
        _ = Self.configured
    }

    private static let configured: Bool = {
        mallopt(M_MMAP_THRESHOLD, 32 << 20)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
        return true
    }()

    /// How many times memory was given back (for tests).
    var trims: Int { state.withLock { $0.trims } }

    /// Notes a command of `bytes`; from 1 MiB on, the memory is trimmed once it is `idle` old.
    func used(bytes: Int) {
        guard bytes >= 1 << 20 else { return }
        let schedule = state.withLock { state in
            state.lastBigUse = .now
            defer { state.trimScheduled = true }
            return !state.trimScheduled
        }
        if schedule { scheduleTrim(after: idle) }
    }

    private func scheduleTrim(after delay: Duration) {
        Task.detached(priority: .utility) { [self] in
            try? await Task.sleep(for: delay)
            let remaining: Duration? = state.withLock { state in
                let since = state.lastBigUse.map { ContinuousClock.now - $0 } ?? idle
                guard since < idle else {
                    state.trimScheduled = false
                    state.trims += 1
                    return nil
                }
                return idle - since
            }
            if let remaining {
                scheduleTrim(after: remaining)
            } else {
                malloc_trim(0)
            }
        }
    }
}
