internal import CNetlink
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One change the kernel announced on rtnetlink.
public enum NetlinkEvent: Sendable, Hashable {
    /// A link appeared or changed (`removed` false), or went away.
    case link(NetlinkLink, removed: Bool)
    /// An address was added or removed.
    case address(NetlinkAddress, removed: Bool)
    /// A route was added or removed.
    case route(NetlinkRoute, removed: Bool)
    /// The socket overflowed (ENOBUFS): events were lost, re-read the whole state.
    case overflow
}

/// Subscribes to the rtnetlink link, address and route groups of one namespace and delivers the
/// kernel's announcements as an `AsyncStream`. A thread of its own reads the socket (a separate
/// socket from any dump traffic, so events never interleave with dump replies); ending the
/// stream stops the thread.
public struct NetlinkEventSource: Sendable {
    /// The namespace watched; nil for the caller's.
    public let namespace: NetworkNamespace?

    /// A source for `namespace`.
    public init(namespace: NetworkNamespace? = nil) { self.namespace = namespace }

    /// RTMGRP_LINK | IPV4_IFADDR | IPV4_ROUTE | IPV6_IFADDR | IPV6_ROUTE.
    static let groups: UInt32 = 0x1 | 0x10 | 0x40 | 0x100 | 0x400

    /// Starts watching.
    /// - Throws: `NetlinkError` when the socket cannot be opened.
    public func events() throws(NetlinkError) -> AsyncStream<NetlinkEvent> {
        let socket = try NetlinkSocket(namespace: namespace, groups: Self.groups, operation: "subscribe to rtnetlink")
        return try NetlinkSubscription.stream(socket) { message, continuation in
            let type = Int32(message.pointee.nlmsg_type)
            switch type {
            case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
                if let link = RouteNetlink.parseLink(message) {
                    continuation.yield(.link(link, removed: type == Int32(RTM_DELLINK)))
                }
            case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
                if let address = RouteNetlink.parseAddress(message) {
                    continuation.yield(.address(address, removed: type == Int32(RTM_DELADDR)))
                }
            case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE):
                if let route = RouteNetlink.parseRoute(message) {
                    continuation.yield(.route(route, removed: type == Int32(RTM_DELROUTE)))
                }
            default: break
            }
        } overflow: {
            $0.yield(.overflow)
        }
    }
}

/// A multicast subscription read on a thread of its own, its messages turned into a stream's
/// events; ending the stream stops the thread.
final class NetlinkSubscription: @unchecked Sendable {
    /// The events `parse` makes of `socket`'s messages; `overflow` is told when the kernel
    /// dropped some (ENOBUFS).
    static func stream<Event: Sendable>(
        _ socket: NetlinkSocket,
        parse: @escaping @Sendable (UnsafePointer<nlmsghdr>, AsyncStream<Event>.Continuation) -> Void,
        overflow: @escaping @Sendable (AsyncStream<Event>.Continuation) -> Void
    ) throws(NetlinkError) -> AsyncStream<Event> {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw NetlinkError(operation: "pipe", errno: errno) }
        let box = NetlinkSubscription(socket: socket, wake: pipeFDs[0], wakeWriter: pipeFDs[1])
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        continuation.onTermination = { _ in box.stop() }
        let thread = Thread {
            defer { continuation.finish() }
            box.read {
                parse($0, continuation)
            } overflow: {
                overflow(continuation)
            }
        }
        thread.start()
        return stream
    }

    let socket: NetlinkSocket
    let wake: Int32
    let wakeWriter: Int32

    init(socket: NetlinkSocket, wake: Int32, wakeWriter: Int32) {
        self.socket = socket
        self.wake = wake
        self.wakeWriter = wakeWriter
    }

    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    func read(_ handle: (UnsafePointer<nlmsghdr>) -> Void, overflow: () -> Void) {
        defer {
            close(wake)
            close(wakeWriter)
        }
        var descriptors = [
            pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            guard (try? SystemCall.check("poll") { poll(&descriptors, 2, -1) }) != nil else { return }
            if descriptors[1].revents != 0 { return }
            guard descriptors[0].revents != 0 else { continue }
            let received: Int
            do {
                received = try SystemCall.check("receive") {
                    mnl_socket_recvfrom(socket.socket, socket.buffer, socket.size)
                }
            } catch {
                if error.errno == EAGAIN { continue }
                if error.errno == ENOBUFS {
                    overflow()
                    continue
                }
                return
            }
            var remaining = Int32(received)
            var message = UnsafePointer(socket.buffer.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                handle(message)
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
    }
}
