import AiosTesting
import Foundation
import Testing

/// Topology (one namespace, the daemon runs inside it):
///
/// ```
///   netns client:  lo
///                  v0 (veth, 10.77.0.1/24, fd77::1/64) ─── v1 (veth) ─┐
///                                                                     br0 (bridge, 10.78.0.1/24, fd78::1/64)
/// ```
@Suite("net.interfaces and net.routes match ip -j", .serialized)
struct InterfacesMatchIPTests {
    static func build(_ lab: Lab) throws -> String {
        let ns = try lab.namespace("client")
        try lab.ip(ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        try lab.ip(ns, "link", "add", "br0", "type", "bridge")
        try lab.ip(ns, "link", "set", "v1", "master", "br0")
        try lab.ip(ns, "link", "set", "v0", "mtu", "1400")
        try lab.ip(ns, "addr", "add", "10.77.0.1/24", "dev", "v0")
        try lab.ip(ns, "addr", "add", "fd77::1/64", "dev", "v0", "nodad")
        try lab.ip(ns, "addr", "add", "10.78.0.1/24", "dev", "br0")
        try lab.ip(ns, "addr", "add", "fd78::1/64", "dev", "br0", "nodad")
        for link in ["v0", "v1", "br0"] { try lab.ip(ns, "link", "set", link, "up") }
        try lab.ip(ns, "route", "add", "10.90.0.0/16", "via", "10.77.0.254", "metric", "50")
        try lab.ip(ns, "route", "add", "default", "via", "10.78.0.254")
        try lab.ip(ns, "route", "add", "10.91.0.7/32", "dev", "br0", "proto", "static")
        try lab.ip(ns, "-6", "route", "add", "fd99::/48", "via", "fd77::fe", "metric", "300")
        return ns
    }

    @Test("net.interfaces gives the same facts as ip -j -d addr (veth, bridge, v4/v6)")
    func interfaces() async throws {
        try await Lab.with { lab in
            let ns = try Self.build(lab)
            var daemon = try DaemonHarness(lab: lab, namespace: ns)
            try daemon.start()
            // Link-local addresses can still be appearing: compare only when ip agrees with itself
            // before and after our call.
            var matched = false
            for _ in 0..<10 where !matched {
                let before = try IPView.links(ns)
                let (result, value) = try daemon.json(["call", "net.interfaces"])
                #expect(result.status == 0, "\(result.stderr)")
                let after = try IPView.links(ns)
                guard before == after else { continue }
                let ours = IPView.ours(value)
                #expect(ours == before)
                matched = ours == before
                if !matched { break }
            }
            #expect(matched)
            #expect(try IPView.links(ns).map(\.name).sorted() == ["br0", "lo", "v0", "v1"])
            _ = daemon.stop()
        }
    }

    @Test("tools --json lists net.interfaces and net.routes with their schema and effect; describe shows an example")
    func toolsListing() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let (result, value) = try daemon.json(["tools"])
            #expect(result.status == 0)
            let tools = Dictionary(
                ((value as? [[String: Any]]) ?? []).map { ($0["name"] as? String ?? "?", $0) },
                uniquingKeysWith: { first, _ in first })
            for name in ["net.interfaces", "net.routes"] {
                let tool = try #require(tools[name])
                #expect(tool["effect"] as? String == "read")
                #expect((tool["summary"] as? String)?.isEmpty == false)
                let schema = tool["input_schema"] as? [String: Any]
                #expect(schema?["type"] as? String == "object")
                #expect((schema?["examples"] as? [Any])?.isEmpty == false)
            }
            let describe = try daemon.cli(["tools", "describe", "net.routes"])
            #expect(describe.status == 0)
            #expect(describe.stdout.contains("effect: read"))
            #expect(describe.stdout.contains("example: aios-net call net.routes"))
            #expect(try daemon.cli(["tools", "describe", "net.nothing"]).status == 66)
            _ = daemon.stop()
        }
    }

    @Test("net.routes gives the same routes as ip -j route (v4 and v6, main table)")
    func routes() async throws {
        try await Lab.with { lab in
            let ns = try Self.build(lab)
            var daemon = try DaemonHarness(lab: lab, namespace: ns)
            try daemon.start()
            let (result, value) = try daemon.json(["call", "net.routes"])
            #expect(result.status == 0, "\(result.stderr)")
            let output = (value as? [String: Any])?["output"] as? [String: Any]
            let ours = Set(((output?["routes"] as? [[String: Any]]) ?? []).map(IPView.Route.init(ours:)))
            let theirs = try IPView.routes(ns)
            #expect(ours == theirs)
            #expect(
                ours.contains(
                    IPView.Route(
                        destination: "default", gateway: "10.78.0.254", device: "br0", metric: nil, protocolName: "boot"
                    )))
            #expect(
                ours.contains(
                    IPView.Route(
                        destination: "10.91.0.7/32", gateway: nil, device: "br0", metric: nil, protocolName: "static")))
            #expect(ours.contains { $0.destination == "fd99::/48" && $0.metric == 300 })

            // The same call with its input on standard input (`-`), filtered to IPv4.
            let piped = try daemon.cli(["call", "net.routes", "-", "--json"], stdin: #"{"family": "inet"}"#)
            #expect(piped.status == 0, "\(piped.stderr)")
            let pipedValue = try JSONSerialization.jsonObject(with: Data(piped.stdout.utf8)) as? [String: Any]
            let pipedRoutes = ((pipedValue?["output"] as? [String: Any])?["routes"] as? [[String: Any]]) ?? []
            #expect(Set(pipedRoutes.map(IPView.Route.init(ours:))) == theirs.filter { !$0.destination.contains(":") })
            _ = daemon.stop()
        }
    }
}

/// `ip -j` output and ours, reduced to comparable facts.
enum IPView {
    struct Link: Hashable, Comparable {
        var index: Int
        var name: String
        var kind: String?
        var mac: String?
        var mtu: Int
        var state: String
        var flags: Set<String>
        var master: String?
        var addresses: Set<String>

        static func < (lhs: Link, rhs: Link) -> Bool { lhs.index < rhs.index }
    }

    struct Route: Hashable {
        var destination: String
        var gateway: String?
        var device: String?
        var metric: Int?
        var protocolName: String

        init(destination: String, gateway: String?, device: String?, metric: Int?, protocolName: String) {
            self.destination = destination
            self.gateway = gateway
            self.device = device
            self.metric = metric
            self.protocolName = protocolName
        }

        init(ours route: [String: Any]) {
            self.init(
                destination: route["destination"] as? String ?? "?", gateway: route["gateway"] as? String,
                device: route["device"] as? String, metric: route["metric"] as? Int,
                protocolName: route["protocol"] as? String ?? "?")
        }
    }

    static func links(_ ns: String) throws -> [Link] {
        let text = try Shell.check(["ip", "-n", ns, "-j", "-d", "addr", "show"])
        let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
        return list.map { item in
            let info = item["linkinfo"] as? [String: Any]
            let addresses = (item["addr_info"] as? [[String: Any]] ?? []).map { address in
                "\(address["family"] ?? "?") \(address["local"] ?? "?")/\(address["prefixlen"] ?? "?") \(address["scope"] ?? "?")"
            }
            let mac = item["address"] as? String
            return Link(
                index: item["ifindex"] as? Int ?? -1, name: item["ifname"] as? String ?? "?",
                kind: info?["info_kind"] as? String,
                mac: mac == "00:00:00:00:00:00" && item["link_type"] as? String == "loopback" ? mac : mac,
                mtu: item["mtu"] as? Int ?? -1, state: item["operstate"] as? String ?? "?",
                flags: Set(item["flags"] as? [String] ?? []), master: item["master"] as? String,
                addresses: Set(addresses))
        }.sorted()
    }

    static func ours(_ value: Any?) -> [Link] {
        let output = (value as? [String: Any])?["output"] as? [String: Any]
        let list = output?["interfaces"] as? [[String: Any]] ?? []
        return list.map { item in
            let addresses = (item["addresses"] as? [[String: Any]] ?? []).map { address in
                "\(address["family"] ?? "?") \(address["address"] ?? "?")/\(address["prefix_length"] ?? "?") \(address["scope"] ?? "?")"
            }
            return Link(
                index: item["index"] as? Int ?? -1, name: item["name"] as? String ?? "?", kind: item["kind"] as? String,
                mac: item["mac"] as? String, mtu: item["mtu"] as? Int ?? -1, state: item["state"] as? String ?? "?",
                flags: Set(item["flags"] as? [String] ?? []), master: item["master"] as? String,
                addresses: Set(addresses))
        }.sorted()
    }

    static func routes(_ ns: String) throws -> Set<Route> {
        var out: Set<Route> = []
        for family in ["-4", "-6"] {
            let text = try Shell.check(["ip", "-n", ns, "-j", family, "route", "show", "table", "main"])
            let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
            for item in list {
                var destination = item["dst"] as? String ?? "?"
                if destination != "default", !destination.contains("/") {
                    destination += family == "-4" ? "/32" : "/128"
                }
                // ip omits "protocol" for boot routes.
                out.insert(
                    Route(
                        destination: destination, gateway: item["gateway"] as? String, device: item["dev"] as? String,
                        metric: item["metric"] as? Int, protocolName: item["protocol"] as? String ?? "boot"))
            }
        }
        return out
    }
}
