import AiosCore
import AiosLinux
import AiosStore

/// The links and firewall elements of one workload.
enum SandboxWorkloadPlumbing {
    /// Creates the veth (its workload end directly inside `namespace`), enslaves the host end to
    /// the bridge, and gives the workload end its address and a default route via the gateway.
    /// On failure nothing is left behind.
    static func plumb(
        host: String, inside: String, namespace: NetworkNamespace, address: String, sandbox: SandboxRecord,
        networks: SandboxNetworks
    ) throws {
        let netlink = networks.netlink
        guard let bridge = try networks.link(sandbox.bridge) else {
            throw AiosError(
                .failed,
                "bridge \(sandbox.bridge) of sandbox \(sandbox.name) is missing; run firewall.sandbox_create again")
        }
        let length = CIDR(sandbox.subnet)?.length ?? 24
        do {
            try netlink.createVeth(host, peer: inside, peerNamespace: namespace)
        } catch {
            throw networks.kernel("cannot create veth \(host) ↔ \(inside) in \(namespace.path)", error)
        }
        do {
            guard let index = try netlink.linkIndex(named: host) else {
                throw AiosError(.kernel, "veth \(host) vanished while being set up")
            }
            try netlink.setLink(index: index, master: bridge.index)
            try netlink.setLink(index: index, up: true)
            let workload = RouteNetlink(namespace: namespace)
            guard let inner = try workload.linkIndex(named: inside) else {
                throw AiosError(.kernel, "\(inside) did not appear in \(namespace.path)")
            }
            try workload.addAddress(CIDR("\(address)/\(length)")!, index: inner)
            try workload.setLink(index: inner, up: true)
            if let loopback = try workload.linkIndex(named: "lo") { try workload.setLink(index: loopback, up: true) }
            try workload.replaceRoute(RouteSpec(destination: nil, gateway: sandbox.gateway, outputIndex: inner))
        } catch {
            if let index = try? netlink.linkIndex(named: host) { try? netlink.deleteLink(index: index) }
            if let error = error as? AiosError { throw error }
            throw networks.kernel("cannot set up \(inside) in \(namespace.path)", error)
        }
    }

    /// Deletes the workload's veth (both ends), if it still exists.
    static func unplumb(_ record: SandboxWorkloadRecord, networks: SandboxNetworks) throws {
        guard let host = record.hostInterface, let link = try networks.link(host) else { return }
        do {
            try networks.netlink.deleteLink(index: link.index)
        } catch {
            throw networks.kernel("cannot delete veth \(host)", error)
        }
    }

    /// The firewall elements of a workload (none for profile `none`).
    static func elements(_ record: SandboxWorkloadRecord, add: Bool) -> [JSONValue] {
        guard let profile = SandboxProfile(rawValue: record.profile), profile.plumbed, let address = record.address,
            let port = record.hostInterface
        else { return [] }
        let allow = (try? record.allow.decode(as: [SandboxAllowEntry].self)) ?? []
        return SandboxRuleset.workload(address: address, port: port, profile: profile, allow: allow, add: add)
    }
}
