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

    /// A list's zones, one per line.
    func zones(_ list: String) -> String { lists + "/\(list).zones" }
    /// A downloaded list's last good copy, and its HTTP validators.
    func cached(_ list: String) -> String { lists + "/\(list).source" }
    func cacheMeta(_ list: String) -> String { lists + "/\(list).meta.json" }
}
