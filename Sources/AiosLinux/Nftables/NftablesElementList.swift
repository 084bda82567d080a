internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// Set elements in nfnetlink's own encoding: each one an `NFTA_LIST_ELEM` attribute holding its
/// key, the closing key of a range in a concatenated interval set, and its timeout. Written once,
/// as the elements are made; a transaction copies the bytes into its messages.
public struct NftablesElementList: Sendable {
    private var writer = NetlinkBytes()
    /// Elements written.
    public private(set) var count = 0

    /// An empty list.
    public init() {}

    /// The encoded elements, back to back.
    public var bytes: [UInt8] { writer.bytes }

    /// Room for about `elements` elements of `keyBytes` each.
    public mutating func reserveCapacity(elements: Int, keyBytes: Int) {
        writer.reserveCapacity(elements * (2 * keyBytes + 36))
    }

    /// Appends an element: `key`, and `keyEnd` for a range in a concatenated interval set (an
    /// exact key leaves it nil). With `timeoutMs` the kernel expires the element by itself.
    public mutating func append(key: NftablesKey, keyEnd: NftablesKey? = nil, timeoutMs: UInt64? = nil) {
        let element = writer.beginAttribute(NFTA_LIST_ELEM.rawValue, nested: true)
        data(NFTA_SET_ELEM_KEY.rawValue, key)
        if let keyEnd { data(NFTA_SET_ELEM_KEY_END.rawValue, keyEnd) }
        if let timeoutMs {
            let timeout = writer.beginAttribute(NFTA_SET_ELEM_TIMEOUT.rawValue, nested: false)
            writer.append(raw: timeoutMs.bigEndian)
            writer.endAttribute(timeout)
        }
        writer.endAttribute(element)
        count += 1
    }

    /// An `nft_data` attribute: a nest holding `NFTA_DATA_VALUE` with the key's bytes.
    private mutating func data(_ type: UInt32, _ key: NftablesKey) {
        let nest = writer.beginAttribute(type, nested: true)
        let value = writer.beginAttribute(NFTA_DATA_VALUE.rawValue, nested: false)
        key.withBytes { writer.append(contentsOf: $0) }
        writer.endAttribute(value)
        writer.endAttribute(nest)
    }

    /// The elements in runs whose attributes fit in `limit` bytes (one message's
    /// `NFTA_SET_ELEM_LIST_ELEMENTS` nest: its 16-bit length caps it at 64 KiB): byte ranges of
    /// whole elements.
    func runs(limit: Int) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = 0
        var at = 0
        writer.bytes.withUnsafeBytes { raw in
            while at < raw.count {
                let length = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
                if at + length - start > limit, at > start {
                    runs.append(start..<at)
                    start = at
                }
                at += length
            }
        }
        if at > start { runs.append(start..<at) }
        return runs
    }
}
