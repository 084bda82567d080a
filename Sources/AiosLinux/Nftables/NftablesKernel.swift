/// What aios-net asks of the kernel's nf_tables over nfnetlink, as one small interface: its
/// table's existence, chains, rules and set elements (the kernel's own dumps), and set-element
/// transactions. `NftablesNetlink` is the real one; tests use a fake that keeps sets in memory
/// (`AiosTesting.FakeNftablesKernel`).
public protocol NftablesKernel: Sendable {
    /// Whether `table` exists.
    func tableExists(family: NftablesRules.Family, table: String) throws(NetlinkError) -> Bool
    /// The table's chains.
    func chains(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesChain]
    /// The table's rules.
    func rules(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesRule]
    /// One set's elements (none when the table or set does not exist).
    func setElements(family: NftablesRules.Family, table: String, set: String) throws(NetlinkError)
        -> [NftablesSetElement]
    /// Applies a set-element transaction: all of it or none.
    func commit(_ transaction: NftablesElementTransaction) throws(NetlinkError)
}

/// The kernel's nf_tables over nfnetlink: dumps through `NftablesRules`, transactions over one
/// socket kept open (`NftablesConnection`).
public struct NftablesNetlink: NftablesKernel {
    private let dumps: NftablesRules
    private let connection: NftablesConnection

    /// The daemon's own network namespace, or `namespace`.
    public init(namespace: NetworkNamespace? = nil) {
        dumps = NftablesRules(namespace: namespace)
        connection = NftablesConnection(namespace: namespace)
    }

    public func tableExists(family: NftablesRules.Family, table: String) throws(NetlinkError) -> Bool {
        try dumps.tableExists(family: family, table: table)
    }

    public func chains(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesChain] {
        try dumps.chains(family: family, table: table)
    }

    public func rules(family: NftablesRules.Family, table: String) throws(NetlinkError) -> [NftablesRule] {
        try dumps.rules(family: family, table: table)
    }

    public func setElements(family: NftablesRules.Family, table: String, set: String) throws(NetlinkError)
        -> [NftablesSetElement]
    {
        try dumps.setElements(family: family, table: table, set: set)
    }

    public func commit(_ transaction: NftablesElementTransaction) throws(NetlinkError) {
        try connection.commit(transaction)
    }
}
