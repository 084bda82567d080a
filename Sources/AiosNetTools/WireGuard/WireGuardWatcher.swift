import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging

/// Adopts the wireguard-go processes a previous daemon left running, and re-resolves the
/// endpoint names of peers whose handshake went stale (their address may have changed — the
/// case systemd-networkd has left open since 2018), writing `wireguard.endpoint_updated`.
struct WireGuardWatcher: BackgroundWork {
    let context: NetContext
    let logger: Logger
    var name: String { "net.wireguard" }

    /// A handshake older than this is stale (WireGuard rekeys every 2 minutes while in use).
    static let staleAfter = 180

    func run(calls: any ToolCalling) async throws {
        await context.wireguard.adopt()
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(context.settings.wireguardCheckMs))
            await check()
        }
    }

    func check() async {
        let now = Int(Date().timeIntervalSince1970)
        for record in (try? await context.store.wireGuardInterfaces()) ?? [] {
            guard let setup = try? record.config.decode(as: WireGuardSetup.self),
                let device = try? await context.wireguard.get(record.interface)
            else { continue }
            for peer in setup.peers {
                guard let endpoint = peer.endpoint, let parsed = try? Endpoint.parse(endpoint, field: ""),
                    !parsed.isLiteral,
                    let hex = WireGuardKey.decode(peer.publicKey).map(WireGuardKey.hex),
                    let state = device.peers.first(where: { $0.publicKeyHex == hex })
                else { continue }
                let age = state.lastHandshake == 0 ? Int.max : now - state.lastHandshake
                guard age > Self.staleAfter, let resolved = try? await context.wireguard.resolve(endpoint),
                    Endpoint.uapi(resolved.address, port: resolved.port) != state.endpoint,
                    let key = WireGuardKey.decode(peer.publicKey)
                else { continue }
                do {
                    try await context.wireguard.set(
                        record.interface,
                        WireGuardConfiguration(peers: [
                            WireGuardConfiguration.Peer(
                                publicKey: key, endpointAddress: resolved.address, endpointPort: resolved.port,
                                replaceAllowedIPs: false, updateOnly: true)
                        ]))
                    try? await context.store.record(
                        AuditEvent(
                            timestampMs: SystemClock().nowMs(), kind: "wireguard.endpoint_updated", origin: "monitor",
                            result: "ok",
                            detail:
                                "\(record.interface) peer \(peer.publicKey.prefix(8))…: \(endpoint) now \(resolved.address):\(resolved.port) (handshake stale)"
                        ))
                } catch {
                    logger.error("cannot update the endpoint of a peer of \(record.interface): \(error)")
                }
            }
        }
    }
}
