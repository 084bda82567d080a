import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging

/// Receives dhcpcd's hook events on the daemon's datagram socket and hands them to the DHCP
/// clients, writing a `dhcp.<reason>` event for the ones that matter.
struct DHCPEventListener: BackgroundWork {
    let clients: DHCPClients
    let store: Store
    let logger: Logger
    var name: String { "net.dhcp-events" }

    func run(calls: any ToolCalling) async throws {
        let path = await clients.eventSocket
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd: Int32
        do {
            fd = try UnixDatagram.bind(path: path)
        } catch {
            logger.error("cannot receive DHCP events on \(path): \(error)")
            return
        }
        defer { close(fd) }
        await clients.adopt()
        while !Task.isCancelled {
            let message = try? await Offload.run { try UnixDatagram.receive(fd, timeoutMs: 250) }
            guard let message = message ?? nil else { continue }
            guard let value = try? JSONValue(parsing: message), case .object(let members) = value else { continue }
            var variables: [String: String] = [:]
            for (key, member) in members { if let text = member.stringValue { variables[key] = text } }
            guard let interface = variables["interface"], let reason = variables["reason"] else { continue }
            let event = DHCPEvent(interface: interface, reason: reason, variables: variables)
            let now = SystemClock().nowMs()
            await clients.handle(event, at: now)
            if DHCPEvent.bound.contains(reason) || DHCPEvent.lost.contains(reason) {
                logger.info("dhcp \(interface): \(reason) \(event.address ?? "")")
                try? await store.record(
                    AuditEvent(
                        timestampMs: now, kind: "dhcp.\(reason.lowercased())", origin: "monitor", result: "ok",
                        detail: "\(interface): \(event.summary.jsonText)"))
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
