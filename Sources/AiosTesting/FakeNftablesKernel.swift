public import AiosLinux
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// nf_tables in memory, for unit tests of what goes over nfnetlink: tables that exist, their
/// sets' elements, and element transactions applied all or none, as the kernel applies them
/// (an element added again replaces itself; deleting one a set lacks fails the whole
/// transaction with `ENOENT`; a transaction into a table or set that does not exist too). Chains
/// and rules are what the test declares. Real nf_tables behaviour is tested in namespaces.
public final class FakeNftablesKernel: NftablesKernel {
    private struct State {
        var tables: Set<String> = []
        /// "table/set" → the set's elements by key.
        var sets: [String: [[UInt8]: NftablesSetElement]] = [:]
        var chains: [String: [NftablesChain]] = [:]
        var rules: [String: [NftablesRule]] = [:]
        var commits = 0
    }
    private let state = Mutex(State())

    /// An empty kernel.
    public init() {}

    /// Makes `table` exist with empty `sets`.
    public func addTable(_ table: String, sets: [String]) {
        state.withLock { state in
            state.tables.insert(table)
            for set in sets where state.sets["\(table)/\(set)"] == nil { state.sets["\(table)/\(set)"] = [:] }
        }
    }

    /// Removes `table` and its sets (as `nft delete table` would).
    public func deleteTable(_ table: String) {
        state.withLock { state in
            state.tables.remove(table)
            state.sets = state.sets.filter { !$0.key.hasPrefix("\(table)/") }
        }
    }

    /// The elements `set` of `table` holds now.
    public func elements(_ table: String, _ set: String) -> [NftablesSetElement] {
        state.withLock { Array(($0.sets["\(table)/\(set)"] ?? [:]).values) }
    }

    /// Transactions committed.
    public var commits: Int { state.withLock { $0.commits } }

    public func tableExists(family: NftablesRules.Family, table: String) throws(NetlinkError) -> Bool {
        state.withLock { $0.tables.contains(table) }
    }

    public func chains(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesChain] {
        state.withLock { $0.chains[table] ?? [] }
    }

    public func rules(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesRule] {
        state.withLock { $0.rules[table] ?? [] }
    }

    public func setElements(family: NftablesRules.Family, table: String, set: String) throws(NetlinkError)
        -> [NftablesSetElement]
    {
        elements(table, set)
    }

    public func commit(_ transaction: NftablesElementTransaction) throws(NetlinkError) {
        let parts = transaction.decoded()
        let failure: NetlinkError? = state.withLock { state in
            var sets = state.sets
            for part in parts {
                let key = "\(transaction.table)/\(part.set)"
                guard state.tables.contains(transaction.table), var set = sets[key] else {
                    return NetlinkError(operation: "nfnetlink batch", errno: ENOENT)
                }
                for element in part.elements {
                    switch part.change {
                    case .add: set[element.key] = element
                    case .delete:
                        guard set.removeValue(forKey: element.key) != nil else {
                            return NetlinkError(operation: "nfnetlink batch", errno: ENOENT)
                        }
                    }
                }
                sets[key] = set
            }
            state.sets = sets
            state.commits += 1
            return nil
        }
        if let failure { throw failure }
    }
}
