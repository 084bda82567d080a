public import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A single DNS query over UDP with a deadline, without libunbound: for "is this server
/// answering at all" checks (upstream reachability, answer-gap measurements), where a
/// resolver library's own retries and server selection would get in the way.
public enum DNSProbe {
    /// The reply's header facts.
    public struct Reply: Sendable, Hashable {
        /// DNS rcode.
        public var rcode: Int
        /// Answer records.
        public var answers: Int
        /// Round trip, milliseconds.
        public var milliseconds: Double
        /// The AA bit: the server answered from its own data (a local zone), not from upstream.
        public var authoritative: Bool = false
    }

    /// Sends one query for `name`/`type` (recursion desired) to `address`:`port` and waits up to
    /// `timeoutMs` for the reply. Blocking: call through `Offload`.
    /// - Throws: `SystemCallError` (`ETIMEDOUT` when no reply arrives in time).
    public static func query(
        _ name: String, type: Int = 1, address: String, port: Int = 53, timeoutMs: Int = 1000
    ) throws(SystemCallError) -> Reply {
        guard let bytes = IPAddressText.parse(address) else { throw SystemCallError("parse \(address)", errno: EINVAL) }
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let fd = try SystemCall.check("socket") {
            socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { close(fd) }
        let id = UInt16.random(in: 0...UInt16.max)
        var packet: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            let utf8 = Array(label.utf8)
            packet.append(UInt8(min(utf8.count, 63)))
            packet.append(contentsOf: utf8.prefix(63))
        }
        packet.append(contentsOf: [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1])
        let start = DispatchTime.now().uptimeNanoseconds
        let sent = IPSocketAddress.send(fd, packet, to: bytes, port: port)
        guard sent == packet.count else { throw SystemCallError("sendto \(address) port \(port)", errno: errno) }
        var reply = [UInt8](repeating: 0, count: 4096)
        let deadline = start + UInt64(timeoutMs) * 1_000_000
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw SystemCallError("query \(name) at \(address) port \(port)", errno: ETIMEDOUT)
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = try SystemCall.check("poll") { poll(&descriptor, 1, Int32((deadline - now) / 1_000_000) + 1) }
            guard ready > 0 else { continue }
            let count = try SystemCall.check("recv") { recv(fd, &reply, reply.count, 0) }
            guard count >= 12, reply[0] == UInt8(id >> 8), reply[1] == UInt8(id & 0xff) else { continue }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
            return Reply(
                rcode: Int(reply[3] & 0x0f), answers: Int(reply[6]) << 8 | Int(reply[7]), milliseconds: elapsed,
                authoritative: reply[2] & 0x04 != 0)
        }
    }
}
