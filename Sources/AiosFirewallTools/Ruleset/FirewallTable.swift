import AiosCore
import AiosLinux
import AiosNftables
import Foundation

/// aios-net's own nftables table: listing it, snapshotting it, replacing it. Never touches another table.
struct FirewallTable: Sendable {
    let nft: any NftablesRunning
    /// The kernel's own dumps and element transactions (nfnetlink).
    let kernel: any NftablesKernel
    let name: String
    let family = "inet"

    /// The table's objects (table, chains, sets, rules) from a listing, or nil when it does not exist.
    /// - Parameter terse: omit set elements (cheap for large sets).
    func list(terse: Bool = false) throws -> [JSONValue]? {
        let command: JSONValue = [
            "nftables": [["list": ["table": ["family": .string(family), "name": .string(name)]]]]
        ]
        let output: String
        do {
            output = terse ? try nft.runTerse(command.jsonText) : try nft.run(command.jsonText)
        } catch {
            if error.message.contains("No such file or directory") { return nil }
            throw nftError("cannot list table \(family) \(name)", error)
        }
        let document = try JSONValue(parsing: output)
        return (document["nftables"]?.arrayValue ?? []).filter { $0["metainfo"] == nil }
    }

    /// The table's chains and rules (no sets) in the listing's shape, or nil when it does not
    /// exist — read from the kernel's own dumps over nfnetlink, so the cost follows the rules,
    /// not the 100k elements the sets may hold (libnftables' listing fetches those first).
    func chainsAndRules() throws -> [JSONValue]? {
        do {
            guard try kernel.tableExists(family: .inet, table: name) else { return nil }
            let chains: [JSONValue] = try kernel.chains(family: .inet, table: name).map { chain in
                var body: [String: JSONValue] = [
                    "family": .string(family), "table": .string(name), "name": .string(chain.name),
                ]
                if let policy = chain.policy { body["policy"] = .string(policy) }
                return ["chain": .object(body)]
            }
            let rules: [JSONValue] = try kernel.rules(family: .inet, table: name).map { rule in
                var body: [String: JSONValue] = [
                    "family": .string(family), "table": .string(name), "chain": .string(rule.chain),
                    "handle": .number(Double(rule.handle)),
                    "expr": .array(rule.counterPackets.map { ["counter": ["packets": .number(Double($0))]] }),
                ]
                if let comment = rule.comment { body["comment"] = .string(comment) }
                return ["rule": .object(body)]
            }
            return chains + rules
        } catch {
            throw AiosError(.kernel, "cannot read table \(family) \(name) from the kernel: \(error)", cause: error)
        }
    }

    /// Whether the table exists, asked over nfnetlink: libnftables would build its whole cache
    /// (every set's elements) to answer, and cannot survive an element it cannot list.
    func exists() throws -> Bool {
        do {
            return try kernel.tableExists(family: .inet, table: name)
        } catch {
            throw AiosError(.kernel, "cannot read table \(family) \(name) from the kernel: \(error)", cause: error)
        }
    }

    /// One set's elements from the kernel's own dump.
    func setElements(_ set: String) throws -> [NftablesSetElement] {
        do {
            return try kernel.setElements(family: .inet, table: name, set: set)
        } catch {
            throw AiosError(.kernel, "cannot read set \(set) of table \(family) \(name): \(error)", cause: error)
        }
    }

    /// The elements of every entry set (`EntrySets.all` order) from the kernel's own dumps: a
    /// libnftables listing of big sets spends nearly all its time making text.
    func entryElements() throws -> [[NftablesSetElement]] {
        do {
            return try EntrySets.all.map { try kernel.setElements(family: .inet, table: name, set: $0.name) }
        } catch {
            throw AiosError(.kernel, "cannot read the entry sets of table \(family) \(name): \(error)", cause: error)
        }
    }

    /// The objects of one set (with its elements), or nil when it does not exist.
    func listSet(_ set: String) throws -> [JSONValue]? {
        let command: JSONValue = [
            "nftables": [["list": ["set": ["family": .string(family), "table": .string(name), "name": .string(set)]]]]
        ]
        do {
            let document = try JSONValue(parsing: try nft.run(command.jsonText))
            return (document["nftables"]?.arrayValue ?? []).filter { $0["metainfo"] == nil }
        } catch let error as NftablesError {
            if error.message.contains("No such file or directory") { return nil }
            throw nftError("cannot list set \(set)", error)
        }
    }

    /// Runs `commands` as one transaction.
    func apply(_ commands: [JSONValue], what: String) throws {
        do {
            _ = try nft.run("{\"nftables\":[" + commands.map(\.jsonText).joined(separator: ",") + "]}")
        } catch {
            throw nftError(what, error)
        }
    }

    /// Sends set-element changes as one transaction over nfnetlink (libnftables would spend most
    /// of it parsing and evaluating; see `NftablesElementTransaction`).
    /// - Throws: `AiosError` (`.kernel`) whose cause is the `NetlinkError` with the kernel's errno.
    func apply(_ elements: NftablesElementTransaction, what: String) throws {
        do {
            try kernel.commit(elements)
        } catch {
            throw AiosError(.kernel, "\(what): \(error)", cause: error)
        }
    }

    /// Refuses a snapshot with an object of another table or family, or of a kind a restore
    /// does not make: a restore adds every object as it is written, so a chain of
    /// `inet filter` would land (hooked) in someone else's table and stay after a rollback.
    /// - Throws: `.invalidInput` naming the object's field.
    func checkOwnership(_ snapshot: [JSONValue]) throws {
        for (index, object) in snapshot.enumerated() {
            let field = "input.snapshot[\(index)]"
            guard case .object(let members) = object, members.count == 1, let (kind, body) = members.first else {
                throw AiosError(
                    .invalidInput, "each snapshot item is one object such as {\"rule\": {…}}",
                    location: InputLocation(field: field))
            }
            if kind == "metainfo" { continue }
            guard Self.restoredKinds.contains(kind) else {
                throw AiosError(
                    .invalidInput,
                    "a snapshot holds \(Self.restoredKinds.joined(separator: ", ")) objects of table inet \(name) only, not \(kind)",
                    location: InputLocation(field: "\(field).\(kind)"))
            }
            let tableField = kind == "table" ? "name" : "table"
            for (key, expected) in [("family", family), (tableField, name)] where body[key]?.stringValue != expected {
                throw AiosError(
                    .invalidInput,
                    "belongs to \(body["family"]?.stringValue ?? "?") \(body[tableField]?.stringValue ?? "?"): a restore touches table inet \(name) only; nothing was changed",
                    location: InputLocation(field: "\(field).\(kind).\(key)"))
            }
        }
    }

    /// The kinds of object a snapshot restores.
    static let restoredKinds = ["table", "chain", "set", "map", "rule"]

    /// Commands that replace the table with `snapshot` (a listing), or remove it when nil, in one
    /// transaction. Set elements come back with their *remaining* lifetime, never a fresh one:
    /// what they had when listed, less `elapsedMs` since; those it has run out are left out.
    func restoreCommands(_ snapshot: [JSONValue]?, elapsedMs: Int64 = 0) -> [JSONValue] {
        let me: JSONValue = ["family": .string(family), "name": .string(name)]
        var commands: [JSONValue] = [["add": ["table": me]], ["delete": ["table": me]]]
        guard let snapshot else { return commands }
        for kind in Self.restoredKinds {
            for object in snapshot {
                guard var body = object[kind]?.objectValue else { continue }
                body["handle"] = nil
                if kind == "table" {
                    body = ["family": .string(family), "name": .string(name)]
                }
                if kind == "set" || kind == "map", let elements = body["elem"]?.arrayValue {
                    body["elem"] = .array(elements.compactMap { Self.remainingLifetime($0, elapsedMs: elapsedMs) })
                    if body["elem"]?.arrayValue?.isEmpty == true { body["elem"] = nil }
                }
                commands.append(["add": .object([kind: .object(body)])])
            }
        }
        return commands
    }

    /// An element listed with `expires` (whole seconds, rounded down by the listing) is re-added
    /// with `timeout` = what is left of it `elapsedMs` later, in whole seconds rounded down; nil
    /// when under a second is left (a timeout of 0 would make it permanent).
    static func remainingLifetime(_ element: JSONValue, elapsedMs: Int64) -> JSONValue? {
        guard var wrapped = element["elem"]?.objectValue else { return element }
        if let expires = wrapped["expires"]?.intValue {
            let seconds = (Int64(expires) * 1000 - elapsedMs) / 1000
            guard seconds >= 1 else { return nil }
            wrapped["timeout"] = .number(Double(seconds))
            wrapped["expires"] = nil
        }
        return ["elem": .object(wrapped)]
    }
}
