import AiosCore
import AiosLinux
import AiosStore

#if canImport(Glibc)
    import Glibc
#endif

/// Makes a WireGuard setup true: key, device, UAPI configuration, address, routes, store.
enum WireGuardApply {
    /// Applies `setup` (replacing the device's peers) and returns the interface's public key.
    static func apply(
        _ setup: WireGuardSetup, importing keyReference: String?, context: NetContext, origin: String, now: Int64
    ) async throws -> (publicKey: String, backend: String) {
        let devices = context.wireguard
        let previous = try await stored(setup.interface, context: context)?.0
        let key = try devices.keys.privateKey(for: setup.interface, importing: keyReference)
        let publicKey = WireGuardKey.base64(try WireGuardKey.publicKey(of: key))
        let backend = try await devices.ensure(setup.interface)
        var configuration = WireGuardConfiguration(privateKey: key, listenPort: setup.listenPort, replacePeers: true)
        for peer in setup.peers { configuration.peers.append(try await change(peer, devices: devices)) }
        try await devices.set(setup.interface, configuration)
        let link = try context.link(setup.interface)
        let netlink = context.netlink
        do {
            let present = try netlink.addresses().filter { $0.index == link.index && $0.scope < 253 }
                .map { "\($0.address)/\($0.prefixLength)" }
            if let address = setup.address {
                for other in present where other != address {
                    try netlink.removeAddress(CIDR(other)!, index: link.index)
                }
                if !present.contains(address) { try netlink.addAddress(CIDR(address)!, index: link.index) }
            }
            try netlink.setLink(index: link.index, up: true)
            let wanted = routes(setup)
            for cidr in wanted { try netlink.replaceRoute(RouteSpec(destination: cidr, outputIndex: link.index)) }
            // The routes a removed peer (or a narrowed allowed_ips) brought go with it; ones the
            // kernel no longer has are gone already.
            for cidr in previous.map(routes) ?? [] where !wanted.contains(cidr) {
                do {
                    try netlink.removeRoute(RouteSpec(destination: cidr, outputIndex: link.index))
                } catch {
                    guard error.errno == ESRCH || error.errno == ENOENT else { throw error }
                }
            }
        } catch {
            throw context.failed("cannot configure \(setup.interface)", error)
        }
        try await context.store.saveWireGuard(
            WireGuardRecord(
                interface: setup.interface, config: try JSONValue(encoding: setup), publicKey: publicKey,
                backend: backend,
                origin: origin, updatedMs: now))
        return (publicKey, backend)
    }

    /// The routes `setup`'s peers bring: their allowed IPs, less those inside the interface's
    /// own subnet (its address's prefix route covers them).
    static func routes(_ setup: WireGuardSetup) -> [CIDR] {
        let own = setup.address.flatMap(CIDR.init)?.network
        var out: [CIDR] = []
        for allowed in setup.peers.flatMap(\.allowedIPs) {
            guard let cidr = CIDR(allowed)?.network,
                own.map({ !($0.overlaps(cidr) && $0.length <= cidr.length) }) ?? true,
                !out.contains(cidr)
            else { continue }
            out.append(cidr)
        }
        return out
    }

    /// One peer's change (its endpoint name resolved).
    static func change(_ peer: WireGuardPeer, devices: WireGuardDevices, updateOnly: Bool = false) async throws
        -> WireGuardConfiguration.Peer
    {
        guard let bytes = WireGuardKey.decode(peer.publicKey) else {
            throw AiosError(.invalidInput, "not a base64 public key: \(peer.publicKey)")
        }
        var endpoint: (address: String, port: Int)?
        if let text = peer.endpoint { endpoint = try await devices.resolve(text) }
        return WireGuardConfiguration.Peer(
            publicKey: bytes, endpointAddress: endpoint?.address, endpointPort: endpoint?.port,
            keepalive: peer.keepalive ?? 0,
            allowedIPs: peer.allowedIPs.compactMap(CIDR.init), replaceAllowedIPs: true, updateOnly: updateOnly)
    }

    /// The stored setup of `interface`.
    static func stored(_ interface: String, context: NetContext) async throws -> (WireGuardSetup, WireGuardRecord)? {
        guard let record = try await context.store.wireGuardInterfaces().first(where: { $0.interface == interface })
        else {
            return nil
        }
        return (try record.config.decode(as: WireGuardSetup.self), record)
    }
}
