import AiosCore

/// The `add element` commands of a batch, written as text one set at a time (a 100k batch would
/// otherwise build a million JSON nodes only to print them). Each element carries its rule's
/// remaining lifetime as its timeout: a new rule's rounds up to whole seconds; a restore rounds
/// down, so it never extends a lifetime.
struct ElementDocument: Sendable {
    /// Per set, in `EntrySets.all` order: the elements' JSON (UTF-8), comma-separated.
    private(set) var texts = [[UInt8]](repeating: [], count: EntrySets.all.count)
    /// Elements written.
    private(set) var count = 0
    let now: Int64
    let roundDown: Bool
    /// The `timeout` and closing braces for `tailExpiry` (a batch's rules mostly share one).
    private var tail = Array("}}".utf8)
    private var tailExpiry: Int64?

    init(now: Int64, roundDown: Bool = false) {
        self.now = now
        self.roundDown = roundDown
    }

    /// Adds one rule's elements, expiring at `expiresMs` (nil: permanent).
    mutating func add(_ elements: [Element], expiresMs: Int64?) {
        if expiresMs != tailExpiry {
            tailExpiry = expiresMs
            tail = Array("}}".utf8)
            if let expiresMs {
                let milliseconds = expiresMs - now
                let seconds = roundDown ? milliseconds / 1000 : (milliseconds + 999) / 1000
                tail = Array(",\"timeout\":\(max(1, seconds))}}".utf8)
            }
        }
        for element in elements {
            let set = element.setIndex
            if !texts[set].isEmpty { texts[set].append(UInt8(ascii: ",")) }
            texts[set].append(contentsOf: #"{"elem":{"val":"#.utf8)
            element.writeValue(into: &texts[set])
            texts[set].append(contentsOf: tail)
        }
        count += elements.count
    }

    /// Appends `other`'s elements (a later chunk of the same batch) after these.
    mutating func append(_ other: ElementDocument) {
        for (set, text) in other.texts.enumerated() where !text.isEmpty {
            if !texts[set].isEmpty { texts[set].append(UInt8(ascii: ",")) }
            texts[set].append(contentsOf: text)
        }
        count += other.count
    }

    /// One `add element` command per set that has elements, in `EntrySets.all` order.
    func commands(table: String) -> [String] {
        let tableText = JSONValue.string(table).jsonText
        return texts.enumerated().compactMap { set, text in
            guard !text.isEmpty else { return nil }
            return "{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\(tableText),\"name\":\""
                + EntrySets.all[set].name + "\",\"elem\":[" + String(decoding: text, as: UTF8.self) + "]}}}"
        }
    }
}
