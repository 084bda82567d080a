import AiosCore
import AiosStore
import Testing

@testable import AiosGoals

/// Handlers as pure functions: a spec, observed reads and what the goal owns in, the calls out.
@Suite("goal handlers")
struct HandlerTests {
    func goal(_ kind: String, _ spec: JSONValue, newGeneration: Bool = false) -> Goal {
        Goal(
            document: GoalDocument(kind: kind, name: "g", spec: spec, source: "/goals/g.yaml:1"), expiresMs: nil,
            isNewGeneration: newGeneration)
    }

    func owned(_ kind: String, _ id: String, detail: String? = nil) -> GoalResource {
        GoalResource(goal: "g", kind: kind, id: id, detail: detail, createdMs: 0)
    }

    @Test("FirewallRule after the kernel announced removals: its element gone or the table gone is repaired")
    func firewallKernelRepair() throws {
        let handler = FirewallRuleHandler()
        let spec: JSONValue = ["action": "allow", "port": 80]
        let mine = [owned("firewall.rule", "r1")]
        func observed(present: Bool = true, missing: [String], count: Int? = nil) -> Observations {
            Observations([
                FirewallRuleHandler.list: .success(["rules": [["id": "r1"]]]),
                FirewallRuleHandler.kernel: .success([
                    "present": .bool(present),
                    "entries": [
                        "missing": .array(missing.map { ["rule": .string($0), "summary": "", "set": "s"] }),
                        "missing_count": .number(Double(count ?? missing.count)),
                    ],
                ]),
            ])
        }
        var suspect = goal("FirewallRule", spec)
        suspect.recheckKernel = true
        #expect(handler.reads(goal("FirewallRule", spec)) == [FirewallRuleHandler.list])
        #expect(handler.reads(suspect) == [FirewallRuleHandler.list, FirewallRuleHandler.kernel])
        let repair = try handler.reconcile(suspect, observed: observed(missing: ["r1"]), owned: mine)
        #expect(repair.calls.map(\.request) == [CallRequest(tool: "firewall.reconcile", input: ["entries": true])])
        #expect(repair.calls[0].owns(["elements_added": 1], false).isEmpty)
        #expect(
            try handler.reconcile(suspect, observed: observed(present: false, missing: []), owned: mine).calls.count
                == 1)
        // More missing than listed: one of them may be its.
        #expect(
            try handler.reconcile(suspect, observed: observed(missing: ["r2"], count: 40), owned: mine).calls.count == 1
        )
        // Someone else's element went: nothing to do; and without the announcement, no kernel check.
        #expect(try handler.reconcile(suspect, observed: observed(missing: ["r2"]), owned: mine).calls.isEmpty)
        #expect(
            try handler.reconcile(goal("FirewallRule", spec), observed: observed(missing: ["r1"]), owned: mine).calls
                .isEmpty)
    }

    @Test("WireGuardTunnel: made when absent and owned; left alone when owned; someone else's name fails")
    func wireGuardTunnel() throws {
        let handler = NamedResourceHandler(.wireGuardTunnel)
        let spec: JSONValue = ["interface": "wg0", "listen_port": 51820]
        let none = Observations([CallRequest(tool: "net.wireguard_status"): .success(["interfaces": []])])
        let present = Observations([
            CallRequest(tool: "net.wireguard_status"): .success(["interfaces": [["interface": "wg0"]]])
        ])
        let step = try handler.reconcile(goal("WireGuardTunnel", spec), observed: none, owned: [])
        #expect(step.calls.map(\.request.tool) == ["net.wireguard_setup"])
        #expect(step.calls[0].request.input == spec)
        #expect(step.calls[0].owns([:], false) == [OwnedItem(kind: "net.wireguard", id: "wg0")])
        let mine = [owned("net.wireguard", "wg0")]
        #expect(try handler.reconcile(goal("WireGuardTunnel", spec), observed: present, owned: mine).calls.isEmpty)
        // A new generation updates it in place.
        #expect(
            try handler.reconcile(goal("WireGuardTunnel", spec, newGeneration: true), observed: present, owned: mine)
                .calls.count == 1)
        #expect(throws: AiosError.self) {
            try handler.reconcile(goal("WireGuardTunnel", spec), observed: present, owned: [])
        }
        // Renamed: the old interface is stale.
        let renamed = try handler.reconcile(
            goal("WireGuardTunnel", ["interface": "wg1"], newGeneration: true), observed: present, owned: mine)
        #expect(renamed.stale.map(\.id) == ["wg0"])
        #expect(handler.retract(mine) == [CallRequest(tool: "net.wireguard_remove", input: ["interface": "wg0"])])
    }

    @Test("SandboxNetwork: the name defaults to default; two goals wanting one sandbox differently clash")
    func sandbox() throws {
        let handler = NamedResourceHandler(.sandboxNetwork)
        let list = Observations([CallRequest(tool: "firewall.sandbox_list"): .success(["sandboxes": []])])
        let step = try handler.reconcile(goal("SandboxNetwork", ["profile": "isolated"]), observed: list, owned: [])
        #expect(step.calls[0].owns([:], false).map(\.id) == ["default"])
        let a = handler.claims(goal("SandboxNetwork", ["name": "ci", "profile": "isolated"]))
        let b = handler.claims(goal("SandboxNetwork", ["name": "ci", "profile": "nat-filtered"]))
        #expect(a[0].key == b[0].key && a[0].value != b[0].value)
    }

    @Test("AddressPool: one allocate per name, owned when new; a name dropped is stale; release by subnet and name")
    func addressPool() throws {
        let handler = AddressPoolHandler()
        let spec: JSONValue = ["subnet": "10.77.0.0/24", "names": ["a", "b"]]
        let step = try handler.reconcile(
            goal("AddressPool", spec), observed: Observations(), owned: [owned("net.allocation", "10.77.0.0/24 c")])
        #expect(step.calls.map { $0.request.input["name"] } == ["a", "b"])
        #expect(step.calls[0].owns(["new": true, "address": "10.77.0.2"], false).map(\.id) == ["10.77.0.0/24 a"])
        #expect(step.calls[0].owns(["new": false], false).isEmpty)
        #expect(step.stale.map(\.id) == ["10.77.0.0/24 c"])
        #expect(
            handler.retract(step.stale)
                == [CallRequest(tool: "net.release", input: ["subnet": "10.77.0.0/24", "name": "c"])])
    }

    @Test("Interface: configured and the earlier snapshot owned; static in force is left alone; retract restores it")
    func interface() throws {
        let handler = InterfaceHandler()
        let spec: JSONValue = ["interface": "eth0", "method": "static", "addresses": ["192.0.2.10/24"]]
        func links(_ addresses: [JSONValue]) -> Observations {
            Observations([
                CallRequest(tool: "net.interfaces"): .success([
                    "interfaces": [["name": "eth0", "addresses": .array(addresses)]]
                ])
            ])
        }
        let bare = try handler.reconcile(goal("Interface", spec), observed: links([]), owned: [])
        #expect(bare.calls.map(\.request.tool) == ["net.configure"])
        let snapshot: JSONValue = [
            "interface": "eth0", "up": true, "mtu": 1500, "addresses": [], "defaultRoutes": [], "dhcp": true,
        ]
        let items = bare.calls[0].owns(["previous": snapshot], false)
        #expect(items.first?.detail.flatMap { try? JSONValue(parsing: $0) } == snapshot)
        let mine = [owned("net.interface", "eth0", detail: snapshot.jsonText)]
        let configured = links([["address": "192.0.2.10", "prefix_length": 24]])
        #expect(try handler.reconcile(goal("Interface", spec), observed: configured, owned: mine).calls.isEmpty)
        // Reconfigured later, the first snapshot stays the one restored.
        #expect(
            try handler.reconcile(goal("Interface", spec), observed: links([]), owned: mine).calls[0].owns(
                ["previous": [:]], false
            ).isEmpty)
        #expect(handler.retract(mine) == [CallRequest(tool: "net.interface_restore", input: snapshot)])
        #expect(throws: AiosError.self) {
            try handler.reconcile(
                goal("Interface", ["interface": "eth9", "method": "dhcp"]), observed: links([]), owned: [])
        }
        let dhcp = handler.claims(goal("Interface", ["interface": "eth0", "method": "dhcp"]))
        #expect(dhcp[0].key == handler.claims(goal("Interface", spec))[0].key)
        #expect(dhcp[0].value != handler.claims(goal("Interface", spec))[0].value)
    }
}

@Suite("goal handlers: Connectivity")
struct ConnectivityHandlerTests {
    func goal(_ spec: JSONValue) -> Goal {
        Goal(document: GoalDocument(kind: "Connectivity", name: "boot", spec: spec, source: "x:1"), expiresMs: nil)
    }

    static let links: JSONValue = [
        "interfaces": [
            ["name": "lo", "link_type": "loopback", "state": "UNKNOWN", "addresses": []],
            ["name": "eth0", "link_type": "ether", "state": "UP", "addresses": []],
            [
                "name": "eth1", "link_type": "ether", "state": "UP",
                "addresses": [["family": "inet", "address": "192.0.2.5", "prefix_length": 24, "scope": "global"]],
            ],
            ["name": "docker0", "link_type": "ether", "kind": "bridge", "state": "UP", "addresses": []],
            ["name": "wg0", "link_type": "none", "kind": "wireguard", "state": "UNKNOWN", "addresses": []],
            [
                "name": "veth1", "link_type": "ether", "kind": "veth", "master": "br-aios", "state": "UP",
                "addresses": [],
            ],
            ["name": "uplink0", "link_type": "ether", "kind": "veth", "state": "UP", "addresses": []],
            ["name": "ens9", "link_type": "ether", "state": "DOWN", "addresses": []],
        ]
    ]

    func observed(routes: [JSONValue] = [], extra: [CallRequest: Result<JSONValue, AiosError>] = [:]) -> Observations {
        var outputs: [CallRequest: Result<JSONValue, AiosError>] = [
            ConnectivityHandler.interfaces: .success(Self.links),
            ConnectivityHandler.routes: .success(["routes": .array(routes)]),
        ]
        outputs.merge(extra) { _, new in new }
        return Observations(outputs)
    }

    @Test(
        "DHCP on the physical links without an address; loopback, WireGuard, bridges, their ports and ignored ones left out"
    )
    func candidates() throws {
        let handler = ConnectivityHandler()
        let step = try handler.reconcile(goal(["links": ["ignore": ["ens*"]]]), observed: observed(), owned: [])
        #expect(step.calls.map { $0.request.input["interface"] } == ["eth0"])
        #expect(step.calls[0].request.input["method"] == "dhcp")
        // A veth named in `use` is a candidate (a lab's uplink); `use` limits the rest.
        let lab = try handler.reconcile(goal(["links": ["use": ["uplink*"]]]), observed: observed(), owned: [])
        #expect(lab.calls.map { $0.request.input["interface"] } == ["uplink0"])
        #expect(ConnectivityHandler.glob("eth?", "eth1") && !ConnectivityHandler.glob("eth?", "eth10"))
        #expect(ConnectivityHandler.glob("*", "") && ConnectivityHandler.glob("d*r*", "docker0"))
    }

    @Test("upstreams and the default firewall, guarded by the first check as its probe")
    func firewallAndUpstreams() throws {
        let handler = ConnectivityHandler()
        let spec: JSONValue = [
            "links": ["use": ["eth1"]], "upstreams": ["9.9.9.9"], "management_subnets": ["10.0.0.0/8"],
            "checks": ["dns": "example.com"],
        ]
        let dns = CallRequest(tool: "net.dns_lookup", input: ["name": "example.com"])
        let step = try handler.reconcile(
            goal(spec), observed: observed(extra: [dns: .success(["answers": ["192.0.2.1"]])]), owned: [])
        #expect(step.calls.map(\.request.tool) == ["dns.configure", "firewall.apply_default"])
        #expect(step.calls[1].guardOptions?.probe == dns)
        #expect(step.recheckAfterMs == 5_000)
        // Owned already: nothing more to do.
        let owned = [
            GoalResource(goal: "boot", kind: "dns.upstreams", id: "upstreams", createdMs: 0),
            GoalResource(goal: "boot", kind: "firewall.default", id: "aios_firewall", createdMs: 0),
        ]
        let again = try handler.reconcile(
            goal(spec), observed: observed(extra: [dns: .success(["answers": ["192.0.2.1"]])]), owned: owned)
        #expect(again.calls.isEmpty)
        #expect(again.degraded?.contains("no default route") == true)
    }

    @Test("the checks: a default route through an up link, a name that resolves, a URL that answers")
    func checks() throws {
        let handler = ConnectivityHandler()
        let spec: JSONValue = ["links": ["use": ["eth1"]], "checks": ["dns": "example.com", "https": "https://x/"]]
        let dns = CallRequest(tool: "net.dns_lookup", input: ["name": "example.com"])
        let https = CallRequest(tool: "net.http_probe", input: ["url": "https://x/"])
        let route: JSONValue = ["destination": "default", "gateway": "192.0.2.1", "device": "eth1"]
        let healthy = try handler.reconcile(
            goal(spec),
            observed: observed(
                routes: [route], extra: [dns: .success(["answers": ["1.2.3.4"]]), https: .success(["reachable": true])]),
            owned: [])
        #expect(healthy.degraded == nil)
        let broken = try handler.reconcile(
            goal(spec),
            observed: observed(
                routes: [route],
                extra: [
                    dns: .success(["name": "example.com", "answers": [], "rcode": "NXDOMAIN"]),
                    https: .failure(AiosError(.failed, "TLS handshake failed")),
                ]),
            owned: [])
        #expect(broken.degraded?.contains("NXDOMAIN") == true, "\(broken.degraded ?? "")")
        #expect(broken.degraded?.contains("TLS handshake failed") == true)
        #expect(broken.recheckAfterMs == 30_000)
    }
}
