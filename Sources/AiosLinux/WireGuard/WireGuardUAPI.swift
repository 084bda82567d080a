import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A WireGuard device as its cross-platform UAPI reports it (`get=1`).
public struct WireGuardDevice: Sendable, Hashable {
    /// The interface's private key (hex). Callers must never print it.
    public var privateKeyHex: String?
    public var listenPort: Int?
    public var peers: [WireGuardPeerState]
}

/// One peer of a device.
public struct WireGuardPeerState: Sendable, Hashable {
    /// Public key, hex.
    public var publicKeyHex: String
    public var endpoint: String?
    public var allowedIPs: [String]
    /// Seconds since the epoch of the latest handshake; 0 = never.
    public var lastHandshake: Int
    public var rxBytes: Int
    public var txBytes: Int
    public var keepalive: Int
}

/// Why a UAPI request failed.
public struct WireGuardUAPIError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The WireGuard cross-platform UAPI over a unix socket (what wireguard-go serves): `get=1` and
/// `set=1` requests, each ending with an empty line, answered with `errno=N`. Blocking; call
/// through `Offload`. Requests never contain anything but what is given (keys included), so
/// callers keep them out of logs.
public struct WireGuardUAPI: Sendable {
    /// The socket (`/run/wireguard/wg0.sock`, or `/proc/PID/root/run/wireguard/wg0.sock` when the
    /// daemon runs in a private mount namespace).
    public let socketPath: String

    /// A client for the device at `socketPath`.
    public init(socketPath: String) { self.socketPath = socketPath }

    /// The device's configuration and peer statistics.
    public func get() throws -> WireGuardDevice {
        let reply = try exchange("get=1\n\n")
        var device = WireGuardDevice(privateKeyHex: nil, listenPort: nil, peers: [])
        var peer: WireGuardPeerState?
        for line in reply.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0]
            let value = String(parts[1])
            switch key {
            case "private_key": device.privateKeyHex = value
            case "listen_port": device.listenPort = Int(value)
            case "public_key":
                if let peer { device.peers.append(peer) }
                peer = WireGuardPeerState(
                    publicKeyHex: value, endpoint: nil, allowedIPs: [], lastHandshake: 0, rxBytes: 0, txBytes: 0,
                    keepalive: 0)
            case "endpoint": peer?.endpoint = value
            case "allowed_ip": peer?.allowedIPs.append(value)
            case "last_handshake_time_sec": peer?.lastHandshake = Int(value) ?? 0
            case "rx_bytes": peer?.rxBytes = Int(value) ?? 0
            case "tx_bytes": peer?.txBytes = Int(value) ?? 0
            case "persistent_keepalive_interval": peer?.keepalive = Int(value) ?? 0
            case "errno":
                if value != "0" { throw WireGuardUAPIError(message: "get failed: errno \(value)") }
            default: break
            }
        }
        if let peer { device.peers.append(peer) }
        return device
    }

    /// Sends a `set=1` request made of `lines` (`private_key=…`, `public_key=…`, …).
    /// - Throws: `WireGuardUAPIError` with the errno the device returned. A failed set is not
    ///   transactional: re-read with `get` and repair.
    public func set(_ lines: [String]) throws {
        let reply = try exchange("set=1\n" + lines.map { $0 + "\n" }.joined() + "\n")
        guard let status = reply.split(separator: "\n").first(where: { $0.hasPrefix("errno=") }) else {
            throw WireGuardUAPIError(message: "set: no status in the reply")
        }
        let code = status.dropFirst(6)
        guard code == "0" else {
            let number = abs(Int32(code) ?? 0)
            throw WireGuardUAPIError(message: "set rejected: \(String(cString: strerror(number))) (errno \(code))")
        }
    }

    private func exchange(_ request: String) throws -> String {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath)
        } catch {
            throw WireGuardUAPIError(message: "cannot connect to \(socketPath): \(error)")
        }
        defer { close(fd) }
        do {
            try UnixSocket.writeAll(fd, Array(request.utf8))
            var reply: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 8192)
            // The reply ends with an empty line; the device keeps the connection open.
            while !(reply.count >= 2 && reply[reply.count - 1] == 10 && reply[reply.count - 2] == 10) {
                let count = try SystemCall.check("read \(socketPath)") { read(fd, &chunk, chunk.count) }
                if count == 0 { break }
                reply.append(contentsOf: chunk[0..<count])
            }
            return String(decoding: reply, as: UTF8.self)
        } catch {
            throw WireGuardUAPIError(message: "\(socketPath): \(error)")
        }
    }
}
