import AiosLinux

/// What every benchmark shares: its usage text, and the namespace set-up it needs.
enum BenchSupport {
    static let usage = """
        usage: aios-bench [dispatch] [--calls N]          pipeline dispatch, audit on/off
               aios-bench firewall [--sizes 1000,10000]   firewall batches against raw libnftables
               aios-bench dns [--names N]                 blocklist parse and resolver load
               aios-bench net                             DHCP lease to connectivity
               aios-bench goals                           goal file to kernel, 1,000 goals, memory
               aios-bench planning                        the firewall planner alone

        Run as root inside a network namespace made for it, e.g.
          ip netns add aios-bench && ip netns exec aios-bench .build/release/aios-bench firewall; ip netns del aios-bench
        Benchmarks/README.md says what each measures and holds the current figures.
        """

    /// Brings `lo` up in the current namespace (a new namespace has it down).
    static func loopbackUp() throws {
        let netlink = RouteNetlink()
        guard let lo = try netlink.links().first(where: { $0.name == "lo" }) else { return }
        try netlink.setLink(index: lo.index, up: true)
    }
}
