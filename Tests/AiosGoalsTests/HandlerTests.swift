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
