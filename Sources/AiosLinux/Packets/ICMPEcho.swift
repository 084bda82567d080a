import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// ICMP / ICMPv6 echo over a raw socket (root). Blocking: call through `Offload`.
public enum ICMPEcho {
    /// Sends `count` echo requests to `address`, `intervalMs` apart, each waiting up to
    /// `timeoutMs` for its reply.
    /// - Returns: per request the round-trip time in milliseconds, or nil when no reply came.
    /// - Throws: `SystemCallError` when the socket cannot be opened or the request not sent
    ///   (`ENETUNREACH` with no route).
    public static func ping(address: String, count: Int, timeoutMs: Int, intervalMs: Int = 200) throws(SystemCallError)
        -> [Double?]
    {
        guard let bytes = IPAddressText.parse(address) else { throw SystemCallError("parse \(address)", errno: EINVAL) }
        let v6 = bytes.count == 16
        let fd = try SystemCall.check("socket(raw icmp)") {
            socket(
                v6 ? AF_INET6 : AF_INET, SocketType.raw | SocketType.cloexec,
                Int32(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
        }
        defer { close(fd) }
        let identifier = UInt16.random(in: 1...UInt16.max)
        var results: [Double?] = []
        for sequence in 0..<count {
            if sequence > 0 { usleep(useconds_t(intervalMs * 1000)) }
            var packet: [UInt8] = [
                v6 ? 128 : 8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8),
                UInt8(sequence & 0xff),
            ]
            packet += Array("aios-net probe".utf8)
            if !v6 {
                let sum = checksum(packet)
                packet[2] = UInt8(sum >> 8)
                packet[3] = UInt8(sum & 0xff)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let sent = send(fd: fd, packet, to: bytes)
            guard sent == packet.count else {
                let code = errno
                if code == ENETUNREACH || code == EHOSTUNREACH || code == EPERM {
                    throw SystemCallError("send echo to \(address)", errno: code)
                }
                results.append(nil)
                continue
            }
            results.append(
                awaitReply(
                    fd: fd, v6: v6, identifier: identifier, sequence: UInt16(sequence), start: start,
                    timeoutMs: timeoutMs))
        }
        return results
    }

    private static func send(fd: Int32, _ packet: [UInt8], to bytes: [UInt8]) -> Int {
        IPSocketAddress.send(fd, packet, to: bytes, port: 0)
    }

    private static func awaitReply(
        fd: Int32, v6: Bool, identifier: UInt16, sequence: UInt16, start: UInt64, timeoutMs: Int
    )
        -> Double?
    {
        var buffer = [UInt8](repeating: 0, count: 1500)
        let deadline = start + UInt64(timeoutMs) * 1_000_000
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32((deadline - now) / 1_000_000) + 1)
            if ready <= 0 { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            // IPv4 raw sockets deliver the IP header; IPv6 ones do not.
            let offset = v6 ? 0 : Int(buffer[0] & 0x0f) * 4
            guard count >= offset + 8 else { continue }
            let type = buffer[offset]
            let id = UInt16(buffer[offset + 4]) << 8 | UInt16(buffer[offset + 5])
            let seq = UInt16(buffer[offset + 6]) << 8 | UInt16(buffer[offset + 7])
            if type == (v6 ? 129 : 0) && id == identifier && seq == sequence {
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
            }
        }
    }

    /// The internet checksum (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
