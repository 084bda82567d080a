import AiosCore
import AiosLinux
import AiosNftables
import AiosStore
import Foundation

/// What the sandbox tools share: the kernel (links over rtnetlink, rules through libnftables),
/// the store, and the firewall table they cooperate with.
struct SandboxNetworks: Sendable {
    let nft: any NftablesRunning
    let store: Store
    let netlink: RouteNetlink
    /// aios-net's firewall table, whose `sandbox_bridges` set lets sandbox traffic past its drop policies.
    let firewallTable: String

    static let forwardingKey = "net.ipv4.ip_forward"
    static let forwardingBeforeSetting = "sandbox.ip_forward_before"

    /// Runs `commands` in one transaction.
    func apply(_ commands: [JSONValue], what: String) throws {
        do {
            _ = try nft.run(JSONValue.object(["nftables": .array(commands)]).jsonText)
        } catch {
            throw nftError(what, error)
        }
    }

    /// The inet sandbox table's listing (no set contents), or nil when it does not exist.
    func sandboxTable() throws -> [JSONValue]? {
        try list(family: "inet", table: SandboxRuleset.table)
    }

    /// True when the firewall table exists and has the sandbox bridge set (default ruleset applied
    /// by a version that knows sandboxes).
    func firewallHasSandboxSet() throws -> Bool {
        let objects = try list(family: "inet", table: firewallTable) ?? []
        return objects.contains { $0["set"]?["name"]?.stringValue == DefaultRuleset.sandboxSet }
    }

    /// Commands that add or remove `bridge` from the firewall table's sandbox set, when it has one.
    func firewallBridgeCommands(_ bridge: String, add: Bool) throws -> [JSONValue] {
        guard try firewallHasSandboxSet() else { return [] }
        let body: JSONValue = [
            "family": "inet", "table": .string(firewallTable), "name": .string(DefaultRuleset.sandboxSet),
            "elem": [.string(bridge)],
        ]
        return add ? [["add": ["element": body]]] : [["add": ["element": body]], ["delete": ["element": body]]]
    }

    /// The link named `name`, if any.
    func link(_ name: String) throws -> NetlinkLink? {
        do {
            return try netlink.links().first { $0.name == name }
        } catch {
            throw AiosError(.kernel, "cannot read links: \(error)", cause: error)
        }
    }

    /// Turns IPv4 forwarding on (remembering the previous value once, for `restoreForwarding`).
    func enableForwarding() async throws {
        let current = Sysctl.read(Self.forwardingKey) ?? "0"
        guard current != "1" else { return }
        if try await store.setting(Self.forwardingBeforeSetting) == nil {
            try await store.setSetting(Self.forwardingBeforeSetting, .string(current))
        }
        do {
            try Sysctl.write(Self.forwardingKey, "1")
        } catch {
            throw AiosError(.kernel, "cannot enable IPv4 forwarding: \(error)", cause: error)
        }
    }

    /// Puts IPv4 forwarding back as it was before the first sandbox.
    func restoreForwarding() async throws {
        guard let before = try await store.setting(Self.forwardingBeforeSetting)?.stringValue else { return }
        try? Sysctl.write(Self.forwardingKey, before)
        try await store.removeSetting(Self.forwardingBeforeSetting)
    }

    /// Wraps a netlink failure.
    func kernel(_ what: String, _ error: any Error) -> AiosError {
        AiosError(.kernel, "\(what): \(error)", cause: error)
    }

    func list(family: String, table: String) throws -> [JSONValue]? {
        let command: JSONValue = [
            "nftables": [["list": ["table": ["family": .string(family), "name": .string(table)]]]]
        ]
        do {
            let document = try JSONValue(parsing: try nft.runTerse(command.jsonText))
            return (document["nftables"]?.arrayValue ?? []).filter { $0["metainfo"] == nil }
        } catch let error as NftablesError {
            if error.message.contains("No such file or directory") { return nil }
            throw nftError("cannot list table \(family) \(table)", error)
        }
    }
}
