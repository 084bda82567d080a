internal import CNetlink
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a frame on the link said about who is there.
public struct ObservedFrame: Sendable, Hashable {
    /// `arp-request`, `arp-reply` or `ipv4`.
    public var kind: String
    /// The sender's (source) IPv4 address.
    public var sender: String
    /// The target's (destination) IPv4 address.
    public var target: String
    /// Source and destination MAC addresses.
    public var senderMAC: [UInt8]
    public var targetMAC: [UInt8]
}

/// Raw link-layer access on one interface (AF_PACKET, root): listening for ARP and IPv4 traffic,
/// ARP probes (RFC 5227) and ARP requests. Blocking: call through `Offload`.
public enum LinkCapture {
    /// Listens on interface `index` for `durationMs` and returns the ARP and IPv4 frames seen.
    public static func listen(index: Int32, durationMs: Int) throws(SystemCallError) -> [ObservedFrame] {
        let fd = try open(index: index, protocol: 0x0003)
        defer { close(fd) }
        var frames: [ObservedFrame] = []
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(durationMs) * 1_000_000
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0, let frame = parse(Array(buffer[0..<count])) { frames.append(frame) }
        }
        return frames
    }

    /// RFC 5227 probe for `candidate` from `mac` on interface `index`: `probes` ARP requests with
    /// sender address 0.0.0.0, then listening; any ARP from `candidate` (or another probe for it)
    /// is a conflict.
    /// - Returns: the MAC of the host already using `candidate`, or nil when it is free.
    public static func probe(index: Int32, mac: [UInt8], candidate: String, probes: Int = 3, waitMs: Int = 300)
        throws(SystemCallError) -> [UInt8]?
    {
        guard let target = IPAddressText.parse(candidate), target.count == 4 else {
            throw SystemCallError("parse \(candidate)", errno: EINVAL)
        }
        let fd = try open(index: index, protocol: 0x0806)
        defer { close(fd) }
        for _ in 0..<probes {
            try sendARP(
                fd: fd, index: index, operation: 1, senderMAC: mac, senderIP: [0, 0, 0, 0],
                targetMAC: [0, 0, 0, 0, 0, 0], targetIP: target)
            if let conflict = listenARP(
                fd: fd, ms: waitMs,
                where: { frame, _ in
                    frame.sender == candidate
                        || (frame.kind == "arp-request" && frame.sender == "0.0.0.0" && frame.target == candidate
                            && frame.senderMAC != mac)
                })
            {
                return conflict.senderMAC
            }
        }
        return nil
    }

    /// Asks who has `target` (an ARP request from `senderIP`).
    /// - Returns: the MAC that answered within `waitMs`, or nil.
    public static func resolve(index: Int32, mac: [UInt8], senderIP: String, target: String, waitMs: Int = 500)
        throws(SystemCallError) -> [UInt8]?
    {
        guard let targetBytes = IPAddressText.parse(target), targetBytes.count == 4,
            let senderBytes = IPAddressText.parse(senderIP), senderBytes.count == 4
        else { throw SystemCallError("parse \(target)", errno: EINVAL) }
        let fd = try open(index: index, protocol: 0x0806)
        defer { close(fd) }
        for _ in 0..<2 {
            try sendARP(
                fd: fd, index: index, operation: 1, senderMAC: mac, senderIP: senderBytes,
                targetMAC: [0, 0, 0, 0, 0, 0], targetIP: targetBytes)
            if let reply = listenARP(
                fd: fd, ms: waitMs, where: { frame, _ in frame.kind == "arp-reply" && frame.sender == target })
            {
                return reply.senderMAC
            }
        }
        return nil
    }

    private static func open(index: Int32, protocol ethertype: UInt16) throws(SystemCallError) -> Int32 {
        let fd = try SystemCall.check("socket(AF_PACKET)") {
            socket(AF_PACKET, SocketType.raw | SocketType.cloexec, Int32(ethertype.bigEndian))
        }
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = ethertype.bigEndian
        address.sll_ifindex = index
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        if bound != 0 {
            let code = errno
            close(fd)
            throw SystemCallError("bind AF_PACKET to interface \(index)", errno: code)
        }
        return fd
    }

    private static func sendARP(
        fd: Int32, index: Int32, operation: UInt16, senderMAC: [UInt8], senderIP: [UInt8], targetMAC: [UInt8],
        targetIP: [UInt8]
    ) throws(SystemCallError) {
        let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        var frame = broadcast + senderMAC + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, UInt8(operation >> 8), UInt8(operation & 0xff)]
        frame += senderMAC + senderIP + targetMAC + targetIP
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = UInt16(0x0806).bigEndian
        address.sll_ifindex = index
        address.sll_halen = 6
        withUnsafeMutableBytes(of: &address.sll_addr) { raw in for (i, b) in broadcast.enumerated() { raw[i] = b } }
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, frame, frame.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        guard sent == frame.count else { throw SystemCallError("send ARP on interface \(index)", errno: errno) }
    }

    private static func listenARP(fd: Int32, ms: Int, where match: (ObservedFrame, [UInt8]) -> Bool) -> ObservedFrame? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let bytes = Array(buffer[0..<count])
            if let frame = parse(bytes), frame.kind.hasPrefix("arp"), match(frame, bytes) { return frame }
        }
    }

    /// Parses an Ethernet frame carrying ARP or IPv4.
    static func parse(_ bytes: [UInt8]) -> ObservedFrame? {
        guard bytes.count >= 14 else { return nil }
        let destination = Array(bytes[0..<6])
        let source = Array(bytes[6..<12])
        let type = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
        if type == 0x0806, bytes.count >= 42 {
            let operation = UInt16(bytes[20]) << 8 | UInt16(bytes[21])
            let sender = IPAddressText.format(Array(bytes[28..<32])) ?? "?"
            let target = IPAddressText.format(Array(bytes[38..<42])) ?? "?"
            return ObservedFrame(
                kind: operation == 2 ? "arp-reply" : "arp-request", sender: sender, target: target,
                senderMAC: Array(bytes[22..<28]), targetMAC: Array(bytes[32..<38]))
        }
        if type == 0x0800, bytes.count >= 34 {
            return ObservedFrame(
                kind: "ipv4", sender: IPAddressText.format(Array(bytes[26..<30])) ?? "?",
                target: IPAddressText.format(Array(bytes[30..<34])) ?? "?", senderMAC: source, targetMAC: destination)
        }
        return nil
    }
}
