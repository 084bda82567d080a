import AiosLinux

/// The set elements of one change, per entry set, in the kernel's own encoding
/// (`NftablesElementList`), made as a batch is planned and sent as one nfnetlink transaction
/// (`transaction(table:)`). Each element carries its rule's remaining lifetime as its timeout, in
/// whole seconds: a new rule's rounds up; a restore rounds down, so it never extends a lifetime.
/// A deletion (`deleting()`) writes the keys alone.
struct ElementLists: Sendable {
    /// Per set, in `EntrySets.all` order.
    private(set) var lists = [NftablesElementList](repeating: NftablesElementList(), count: EntrySets.all.count)
    /// Elements written, later chunks included.
    private(set) var count = 0
    let now: Int64
    let roundDown: Bool
    /// Keys to delete, not elements to add.
    private(set) var deletes = false
    /// Later chunks of the same batch, kept apart until the transaction is made (joining them
    /// here would copy a 100k batch's bytes once more).
    private var later: [ElementLists] = []

    init(now: Int64, roundDown: Bool = false) {
        self.now = now
        self.roundDown = roundDown
    }

    /// Lists of keys to delete (`add(_:expiresMs:)` with any expiry).
    static func deleting() -> ElementLists {
        var lists = ElementLists(now: 0)
        lists.deletes = true
        return lists
    }

    /// Adds one rule's elements, expiring at `expiresMs` (nil: permanent).
    mutating func add(_ elements: [Element], expiresMs: Int64?) {
        var timeoutMs: UInt64?
        if !deletes, let expiresMs {
            let milliseconds = expiresMs - now
            let seconds = roundDown ? milliseconds / 1000 : (milliseconds + 999) / 1000
            timeoutMs = UInt64(max(1, seconds)) * 1000
        }
        for element in elements {
            let (key, end) = element.kernelKeys
            lists[element.setIndex].append(key: key, keyEnd: end, timeoutMs: timeoutMs)
        }
        count += elements.count
    }

    /// Appends `other`'s elements (a later chunk of the same batch) after these.
    mutating func append(_ other: ElementLists) {
        later.append(other)
        count += other.count
    }

    /// This one and every later chunk, in order.
    private var flattened: [ElementLists] { [self] + later.flatMap(\.flattened) }

    /// One transaction adding (or deleting) every element, set by set in `EntrySets.all` order.
    func transaction(table: String) -> NftablesElementTransaction {
        var transaction = NftablesElementTransaction(family: .inet, table: table)
        add(to: &transaction)
        return transaction
    }

    /// Adds these changes to `transaction`.
    func add(to transaction: inout NftablesElementTransaction) {
        let parts = flattened
        for (set, entry) in EntrySets.all.enumerated() {
            for part in parts where part.lists[set].count > 0 {
                if deletes {
                    transaction.delete(part.lists[set], from: entry.name)
                } else {
                    transaction.add(part.lists[set], to: entry.name)
                }
            }
        }
    }
}

extension Element {
    /// The element's key in its set's layout (`[ifname] . [saddr] . [daddr] . l4proto . th
    /// dport`, as `EntrySets.set` declares it), and the closing key when the set holds ranges.
    /// An interface ending in `*` is every name with that prefix, as nft writes it.
    var kernelKeys: (key: NftablesKey, end: NftablesKey?) {
        let width = source.isIPv6 ? 16 : 4
        var key = NftablesKey()
        if shape.isExact {
            key.append(address: shape == .source ? source.low : destination.low, width: width)
            key.append(byte: UInt8(protocols.low))
            key.append(port: UInt16(ports.low))
            return (key, nil)
        }
        var end = NftablesKey()
        if let interface {
            let wildcard = interface.hasSuffix("*")
            let name = wildcard ? String(interface.dropLast()) : interface
            key.append(interface: name)
            end.append(interface: name, padding: wildcard ? 0xff : 0)
        }
        key.append(address: source.low, width: width)
        end.append(address: source.high, width: width)
        key.append(address: destination.low, width: width)
        end.append(address: destination.high, width: width)
        key.append(byte: UInt8(protocols.low))
        end.append(byte: UInt8(protocols.high))
        key.append(port: UInt16(ports.low))
        end.append(port: UInt16(ports.high))
        return (key, end)
    }
}
