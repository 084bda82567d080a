internal import CNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// One netlink socket (libmnl; rtnetlink unless another protocol is named), opened in the calling
/// thread's namespace or in a given one. Not shared between threads: each operation opens and
/// closes its own.
final class NetlinkSocket {
    let socket: OpaquePointer
    let portID: UInt32
    private var sequence: UInt32
    let size: Int
    let buffer: UnsafeMutableRawPointer

    /// Opens and binds a socket, joining `groups` (RTMGRP_* bits) when given.
    init(
        namespace: NetworkNamespace?, protocol: Int32 = NETLINK_ROUTE, groups: UInt32 = 0, operation: String
    ) throws(NetlinkError) {
        let opened: OpaquePointer?
        if let namespace {
            do {
                opened = try namespace.perform { SocketBox(mnl_socket_open(`protocol`)) }.socket
            } catch let error as SystemCallError {
                throw NetlinkError(operation: "\(operation): \(error.operation)", errno: error.errno)
            } catch {
                throw NetlinkError(operation: "\(operation): enter \(namespace)", errno: EINVAL)
            }
        } else {
            opened = mnl_socket_open(`protocol`)
        }
        guard let opened else { throw NetlinkError(operation: "\(operation): mnl_socket_open", errno: errno) }
        guard mnl_socket_bind(opened, groups, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let code = errno
            mnl_socket_close(opened)
            throw NetlinkError(operation: "\(operation): mnl_socket_bind", errno: code)
        }
        socket = opened
        portID = mnl_socket_get_portid(opened)
        sequence = UInt32(truncatingIfNeeded: time(nil))
        size = max(aios_mnl_buffer_size(), 32 * 1024)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
    }

    deinit {
        mnl_socket_close(socket)
        buffer.deallocate()
    }

    /// The socket's file descriptor (for poll).
    var fd: Int32 { mnl_socket_get_fd(socket) }

    /// A fresh request header in `buffer` with the next sequence number.
    func header(type: UInt16, flags: UInt16) -> UnsafeMutablePointer<nlmsghdr> {
        memset(buffer, 0, size)
        sequence &+= 1
        let request = mnl_nlmsg_put_header(buffer)!
        request.pointee.nlmsg_type = type
        request.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST) | flags
        request.pointee.nlmsg_seq = sequence
        return request
    }

    /// Sends the request built in `buffer` and waits for the kernel's acknowledgement.
    /// - Throws: `NetlinkError` with the kernel's errno (`EEXIST`, `ENODEV`, `ENETUNREACH`, …).
    func acknowledge(_ request: UnsafeMutablePointer<nlmsghdr>, operation: String) throws(NetlinkError) {
        request.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        let expected = request.pointee.nlmsg_seq
        guard mnl_socket_sendto(socket, request, Int(request.pointee.nlmsg_len)) >= 0 else {
            throw NetlinkError(operation: "\(operation): send", errno: errno)
        }
        while true {
            let received = mnl_socket_recvfrom(socket, buffer, size)
            if received < 0 {
                if errno == EINTR { continue }
                throw NetlinkError(operation: "\(operation): receive", errno: errno)
            }
            var remaining = Int32(received)
            var message = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                if message.pointee.nlmsg_seq == expected, Int32(message.pointee.nlmsg_type) == NLMSG_ERROR {
                    let code = mnl_nlmsg_get_payload(message).load(as: Int32.self)
                    if code < 0 { throw NetlinkError(operation: operation, errno: -code) }
                    return
                }
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
    }

    /// Sends a request built in `buffer` and collects what `parse` makes of each reply message,
    /// until the dump's DONE — or, for a plain request with `NLM_F_ACK`, the acknowledgement.
    func dump<T>(
        _ request: UnsafeMutablePointer<nlmsghdr>, operation: String, parse: (UnsafePointer<nlmsghdr>) -> T?
    ) throws(NetlinkError) -> [T] {
        let expected = request.pointee.nlmsg_seq
        guard mnl_socket_sendto(socket, request, Int(request.pointee.nlmsg_len)) >= 0 else {
            throw NetlinkError(operation: "\(operation): send", errno: errno)
        }
        var results: [T] = []
        while true {
            let received = mnl_socket_recvfrom(socket, buffer, size)
            if received < 0 {
                if errno == EINTR { continue }
                throw NetlinkError(operation: "\(operation): receive", errno: errno)
            }
            var remaining = Int32(received)
            var message = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                if message.pointee.nlmsg_seq == expected, message.pointee.nlmsg_pid == portID {
                    switch Int32(message.pointee.nlmsg_type) {
                    case NLMSG_DONE:
                        // A failed dump reports its error in DONE's payload, not as NLMSG_ERROR.
                        let code = mnl_nlmsg_get_payload(message).load(as: Int32.self)
                        if code < 0 { throw NetlinkError(operation: operation, errno: -code) }
                        return results
                    case NLMSG_ERROR:
                        let code = mnl_nlmsg_get_payload(message).load(as: Int32.self)
                        if code < 0 { throw NetlinkError(operation: operation, errno: -code) }
                        return results  // the acknowledgement of a request that was not a dump
                    default:
                        if let item = parse(message) { results.append(item) }
                    }
                }
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
    }
}

/// Walking the attributes of a received message.
enum NetlinkAttributes {
    /// Calls `body` with each top-level attribute after `offset` bytes of family header.
    static func each(
        _ message: UnsafePointer<nlmsghdr>, offset: Int, _ body: (UInt16, UnsafePointer<nlattr>) -> Void
    ) {
        let tail = UnsafeRawPointer(mnl_nlmsg_get_payload_tail(message)!)
        var attribute = UnsafePointer(
            mnl_nlmsg_get_payload_offset(message, offset)!.assumingMemoryBound(to: nlattr.self))
        while mnl_attr_ok(attribute, Int32(tail - UnsafeRawPointer(attribute))) {
            body(mnl_attr_get_type(attribute), attribute)
            attribute = UnsafePointer(mnl_attr_next(attribute))
        }
    }

    /// Calls `body` with each attribute nested in `attribute`.
    static func nested(_ attribute: UnsafePointer<nlattr>, _ body: (UInt16, UnsafePointer<nlattr>) -> Void) {
        let end = UnsafeRawPointer(attribute) + Int(attribute.pointee.nla_len)
        var item = UnsafePointer(mnl_attr_get_payload(attribute)!.assumingMemoryBound(to: nlattr.self))
        while mnl_attr_ok(item, Int32(end - UnsafeRawPointer(item))) {
            body(mnl_attr_get_type(item), item)
            item = UnsafePointer(mnl_attr_next(item))
        }
    }

    /// The attribute's payload.
    static func bytes(_ attribute: UnsafePointer<nlattr>) -> [UInt8] {
        let length = Int(mnl_attr_get_payload_len(attribute))
        return Array(UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: length))
    }

    /// A NUL-terminated string payload.
    static func string(_ attribute: UnsafePointer<nlattr>) -> String {
        String(cString: mnl_attr_get_str(attribute))
    }

    /// A big-endian 64-bit payload (nfnetlink's byte order).
    static func bigEndian64(_ attribute: UnsafePointer<nlattr>) -> UInt64 {
        UInt64(bigEndian: mnl_attr_get_u64(attribute))
    }
}

/// Moves a just-opened socket pointer out of the namespace thread.
private struct SocketBox: @unchecked Sendable {
    let socket: OpaquePointer?
    init(_ socket: OpaquePointer?) { self.socket = socket }
}
