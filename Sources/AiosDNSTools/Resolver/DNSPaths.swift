import Foundation

/// Where the managed resolver's files live: `<data dir>/dns/`.
struct DNSPaths: Sendable {
    let directory: String

    init(dataDirectory: String) { directory = dataDirectory + "/dns" }

    var config: String { directory + "/unbound.conf" }
    var control: String { directory + "/control.sock" }
    var blocklistInclude: String { directory + "/blocklist.conf" }
    var recordsInclude: String { directory + "/records.conf" }
    var log: String { directory + "/unbound.log" }
    var lists: String { directory + "/lists" }

    /// Creates the directory and `lists/` (0755) when missing: the tools write here whether or
    /// not a resolver runs (`--dns-listen off` keeps records and lists for a later start).
    func ensureDirectories() throws {
        try FileManager.default.createDirectory(
            atPath: lists, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    /// A list's zones, one per line.
    func zones(_ list: String) -> String { lists + "/\(list).zones" }
    /// A downloaded list's last good copy, and its HTTP validators.
    func cached(_ list: String) -> String { lists + "/\(list).source" }
    func cacheMeta(_ list: String) -> String { lists + "/\(list).meta.json" }
}
