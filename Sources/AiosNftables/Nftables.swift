/// Runs libnftables transactions. `Nftables` is the real one; tests may fake it.
public protocol NftablesRunning: Sendable {
    /// Runs `document` (nft JSON or CLI syntax) as one atomic transaction.
    /// - Returns: the library's output (JSON for listings, empty for most changes).
    /// - Throws: `NftablesError` with libnftables' error text; nothing was applied.
    func run(_ document: String) throws(NftablesError) -> String

    /// Like `run`, with set contents omitted from listings (cheap status of large sets).
    func runTerse(_ document: String) throws(NftablesError) -> String
}

/// The real libnftables: two contexts (full and terse listings), each owned by its own thread
/// that runs its calls one at a time (contexts are not thread-safe, and one thread keeps the
/// library's memory in one arena). Calls talk netlink to the kernel and return without waiting
/// on the network; the caller blocks until its command has run.
public final class Nftables: NftablesRunning {
    private let context: NftablesThread
    private let terse: NftablesThread

    /// Creates the contexts and their threads.
    /// - Parameter retainMemoryFor: when given, freed memory is kept between big transactions
    ///   and given back after this long without one (a process-wide malloc setting: for the
    ///   daemon, which owns its process).
    /// - Throws: `NftablesError` when libnftables cannot allocate a context.
    public init(retainMemoryFor idle: Duration? = nil) throws(NftablesError) {
        let retention = idle.map { MemoryRetention(idle: $0) }
        context = NftablesThread(name: "aios-nft", context: try NftablesContext(), retention: retention)
        terse = NftablesThread(name: "aios-nft-terse", context: try NftablesContext(terse: true), retention: retention)
    }

    deinit {
        context.stop()
        terse.stop()
    }

    public func run(_ document: String) throws(NftablesError) -> String {
        try context.run(document)
    }

    public func runTerse(_ document: String) throws(NftablesError) -> String {
        try terse.run(document)
    }
}
