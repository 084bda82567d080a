import AiosCore

/// The `add element` commands of a batch, written as text one set at a time (a 100k batch would
/// otherwise build a million JSON nodes only to print them). Each element carries its rule's
/// remaining lifetime as its timeout: a new rule's rounds up to whole seconds; a restore rounds
/// down, so it never extends a lifetime. A deletion document (`deleting()`) writes `delete
/// element` commands of bare values instead.
struct ElementDocument: Sendable {
    /// Per set, in `EntrySets.all` order: the elements' JSON (UTF-8), comma-separated.
    private(set) var texts = [[UInt8]](repeating: [], count: EntrySets.all.count)
    /// Elements written.
    private(set) var count = 0
    let now: Int64
    let roundDown: Bool
    /// `delete element` of bare values, not `add element` with timeouts.
    private(set) var deletes = false
    /// The `timeout` and closing braces for `tailExpiry` (a batch's rules mostly share one).
    private var tail = Array("}}".utf8)
    private var tailExpiry: Int64?

    init(now: Int64, roundDown: Bool = false) {
        self.now = now
        self.roundDown = roundDown
    }

    /// A document of `delete element` commands (`add(_:expiresMs:)` with any expiry).
    static func deleting() -> ElementDocument {
        var document = ElementDocument(now: 0)
        document.deletes = true
        return document
    }

    /// Adds one rule's elements, expiring at `expiresMs` (nil: permanent).
    mutating func add(_ elements: [Element], expiresMs: Int64?) {
        if deletes {
            for element in elements {
                let set = element.setIndex
                if !texts[set].isEmpty { texts[set].append(UInt8(ascii: ",")) }
                element.writeValue(into: &texts[set])
            }
            count += elements.count
            return
        }
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

    /// Later chunks of the same batch, kept apart until the commands are written (joining them
    /// here would copy a 100k batch's text once more).
    private var later: [ElementDocument] = []

    /// Appends `other`'s elements (a later chunk of the same batch) after these.
    mutating func append(_ other: ElementDocument) {
        later.append(other)
        count += other.count
    }

    /// This document and every later one, in order.
    private var flattened: [ElementDocument] { [self] + later.flatMap(\.flattened) }

    /// One `add element` (or `delete element`) command per set that has elements, in
    /// `EntrySets.all` order.
    func commands(table: String) -> [String] {
        let tableText = JSONValue.string(table).jsonText
        let parts = flattened
        return EntrySets.all.indices.compactMap { set in
            let texts = parts.map { $0.texts[set] }.filter { !$0.isEmpty }
            guard !texts.isEmpty else { return nil }
            var command: [UInt8] = []
            command.reserveCapacity(texts.reduce(96) { $0 + $1.count + 1 })
            command.append(contentsOf: (deletes ? #"{"delete":{"# : #"{"add":{"#).utf8)
            command.append(contentsOf: #""element":{"family":"inet","table":"#.utf8)
            command.append(contentsOf: tableText.utf8)
            command.append(contentsOf: #","name":""#.utf8)
            command.append(contentsOf: EntrySets.all[set].name.utf8)
            command.append(contentsOf: #"","elem":["#.utf8)
            for (position, text) in texts.enumerated() {
                if position > 0 { command.append(UInt8(ascii: ",")) }
                command.append(contentsOf: text)
            }
            command.append(contentsOf: "]}}}".utf8)
            return String(decoding: command, as: UTF8.self)
        }
    }
}
