import AiosTesting

/// Two tables of others (a distro's filter, a Docker-like table with a set) made with `nft` in a
/// namespace before the daemon starts. aios-net must leave them byte-identical.
struct ForeignTables {
    var namespace: String
    /// As nft printed them when they were made.
    var before: [String]

    /// Makes the tables in `namespace` and records how nft prints them.
    static func make(in namespace: String) throws -> ForeignTables {
        try Shell.check([
            "ip", "netns", "exec", namespace, "nft",
            "add table ip other; add chain ip other c { type filter hook input priority 10; policy accept; }; add rule ip other c tcp dport 9999 accept",
        ])
        try Shell.check([
            "ip", "netns", "exec", namespace, "nft",
            "add table inet theirs; add set inet theirs blocked { type ipv4_addr; elements = { 192.0.2.7 } }; add chain inet theirs out { type filter hook output priority 5; policy accept; }; add rule inet theirs out ip daddr @blocked counter drop",
        ])
        return ForeignTables(namespace: namespace, before: try listing(namespace))
    }

    static func listing(_ namespace: String) throws -> [String] {
        try [("ip", "other"), ("inet", "theirs")].map { family, name in
            try Shell.check(["ip", "netns", "exec", namespace, "nft", "list", "table", family, name])
        }
    }

    /// Whether both tables are still byte-identical.
    var untouched: Bool { (try? Self.listing(namespace)) == before }
}
