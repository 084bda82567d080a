import AiosTesting
import Foundation
import Testing

/// Topology:
///
/// ```
///   netns client:   c0 10.53.0.2/24  ← aios-net daemon, its managed unbound on 127.0.0.1:53
///        │                              forwarding to 10.53.0.1
///   netns upstream: u0 10.53.0.1/24  ← dnsmasq: the lab.example zone (TTL 300), query log;
///                                       optionally an HTTPS list server on 8443 (lab CA)
/// ```
struct DNSLab {
    var client: String
    var upstream: String
    var daemon: DaemonHarness
    var queryLog: String
    var lab: Lab

    static let records = [
        ("www.lab.example", "10.53.0.80"), ("ads.lab.example", "10.53.0.99"), ("x.ads.lab.example", "10.53.0.98"),
        ("ok.ads.lab.example", "10.53.0.97"), ("good.ads.lab.example", "10.53.0.96"),
        ("tracker.lab.example", "10.53.0.95"),
        ("cdn.lab.example", "10.53.0.94"),
    ]

    static func build(_ lab: Lab, extra: [String] = [], hostsFile: String? = nil) throws -> DNSLab {
        let client = try lab.namespace("dnsclient")
        let upstream = try lab.namespace("dnsup")
        try lab.ip(client, "link", "add", "c0", "type", "veth", "peer", "name", "u0", "netns", upstream)
        try lab.ip(client, "addr", "add", "10.53.0.2/24", "dev", "c0")
        try lab.ip(upstream, "addr", "add", "10.53.0.1/24", "dev", "u0")
        try lab.ip(client, "link", "set", "c0", "up")
        try lab.ip(upstream, "link", "set", "u0", "up")
        let queryLog = "\(lab.directory)/dnsmasq-queries.log"
        var arguments = [
            "ip", "netns", "exec", upstream, "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
            "--keep-in-foreground",
            "--listen-address=10.53.0.1", "--bind-interfaces", "--local-ttl=300", "--log-queries",
            "--log-facility=\(queryLog)", "--pid-file=", "--port=53",
            "--dhcp-leasefile=\(lab.directory)/dnsmasq.leases",
        ]
        arguments += records.map { "--host-record=\($0.0),\($0.1)" }
        try lab.spawn(arguments, name: "dnsmasq")
        #expect(
            Poll.until(seconds: 10) {
                (try? String(contentsOfFile: queryLog, encoding: .utf8))?.contains("started") == true
            })
        var daemon = try DaemonHarness(lab: lab, namespace: client)
        daemon.extraArguments =
            ["--dns-upstream", "10.53.0.1"] + extra + (hostsFile.map { ["--hosts-file", $0] } ?? [])
        try daemon.start()
        let dns = DNSLab(client: client, upstream: upstream, daemon: daemon, queryLog: queryLog, lab: lab)
        #expect(Poll.until(seconds: 15) { (try? dns.status()["running"] as? Bool) == true })
        return dns
    }

    /// Calls a tool and returns its output object (the call must succeed).
    @discardableResult
    func call(_ tool: String, _ input: String, _ flags: [String] = []) throws -> [String: Any] {
        let (result, value) = try daemon.json(["call", tool, input] + flags)
        #expect(result.status == 0, "\(tool) \(input): \(result.stdout) \(result.stderr)")
        return (value as? [String: Any])?["output"] as? [String: Any] ?? [:]
    }

    func status() throws -> [String: Any] { try call("dns.status", "{}") }

    /// `dns.lookup` of `name` (rcode, answers, ttl, blocked, list).
    func lookup(_ name: String, type: String = "A") throws -> [String: Any] {
        try call("dns.lookup", #"{"name": "\#(name)", "type": "\#(type)"}"#)
    }

    /// How often the upstream was asked for `name` (from dnsmasq's query log).
    func upstreamQueries(_ name: String) -> Int {
        let text = (try? String(contentsOfFile: queryLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("query[A] \(name) ") }.count
    }

    /// Writes a file in the lab directory.
    func file(_ name: String, _ text: String) throws -> String {
        let path = "\(lab.directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The shared blocklist data.
    static let blocklists = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../Fixtures/blocklists"
    ).standardized.path
}
