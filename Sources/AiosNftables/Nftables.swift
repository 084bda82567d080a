import Synchronization

/// Runs libnftables transactions. `Nftables` is the real one; tests may fake it.
public protocol NftablesRunning: Sendable {
    /// Runs `document` (nft JSON or CLI syntax) as one atomic transaction.
    /// - Returns: the library's output (JSON for listings, empty for most changes).
    /// - Throws: `NftablesError` with libnftables' error text; nothing was applied.
    func run(_ document: String) throws(NftablesError) -> String

    /// Like `run`, with set contents omitted from listings (cheap status of large sets).
    func runTerse(_ document: String) throws(NftablesError) -> String
}

/// The real libnftables, one context per instance, calls serialised (contexts are not thread-safe).
/// Calls talk netlink to the kernel and return without waiting on the network.
public final class Nftables: NftablesRunning {
    private let context: Mutex<NftablesContext>
    private let terse: Mutex<NftablesContext>

    /// Creates contexts.
    /// - Throws: `NftablesError` when libnftables cannot allocate one.
    public init() throws(NftablesError) {
        context = Mutex(try NftablesContext())
        terse = Mutex(try NftablesContext(terse: true))
    }

    public func run(_ document: String) throws(NftablesError) -> String {
        try context.withLock { (context) throws(NftablesError) -> String in try context.run(document) }
    }

    public func runTerse(_ document: String) throws(NftablesError) -> String {
        try terse.withLock { (context) throws(NftablesError) -> String in try context.run(document) }
    }
}
