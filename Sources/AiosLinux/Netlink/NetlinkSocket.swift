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

    /// The sequence number the next message gets.
    var nextSequence: UInt32 { sequence &+ 1 }

    /// Counts `count` messages numbered from `nextSequence` elsewhere (a batch's) as sent.
    func useSequences(_ count: Int) { sequence &+= UInt32(count) }

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
        try SystemCall.check("\(operation): send") {
            mnl_socket_sendto(socket, request, Int(request.pointee.nlmsg_len))
        }
        while true {
            let received = try SystemCall.check("\(operation): receive") { mnl_socket_recvfrom(socket, buffer, size) }
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

    /// What the kernel answered a batch: the sequence numbers acknowledged without error, and the
    /// errors (positive errno) by sequence number.
    struct BatchAnswers {
        var acknowledged: Set<UInt32> = []
        var errors: [UInt32: Int32] = [:]
    }

    /// Sends `batch` (`messages` messages, built elsewhere) in one send and collects the answers.
    /// nfnetlink processes a batch within the send, so every answer is queued when it returns and
    /// they are read until none is left. The buffers are raised to fit (`SO_*BUFFORCE` as root,
    /// as nft does), and an error answer is capped to the message's header instead of echoing it.
    func exchangeBatch(_ batch: [UInt8], messages: Int, operation: String) throws(NetlinkError) -> BatchAnswers {
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        try raise(SO_SNDBUF, force: SO_SNDBUFFORCE, to: batch.count + 4096, operation: operation)
        // An answer is one small datagram, but the buffer counts each at its allocation (~1 KiB).
        try raise(SO_RCVBUF, force: SO_RCVBUFFORCE, to: messages * 2048 + 65536, operation: operation)
        let sent = try SystemCall.check("\(operation): send \(batch.count) bytes") {
            batch.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        }
        guard sent == batch.count else {
            throw NetlinkError(operation: "\(operation): send \(batch.count) bytes", errno: EMSGSIZE)
        }
        var answers = BatchAnswers()
        while true {
            let received: Int
            do {
                received = try SystemCall.check("\(operation): read the kernel's answers") {
                    recv(fd, buffer, size, Int32(MSG_DONTWAIT))
                }
            } catch {
                if error.errno == EAGAIN || error.errno == EWOULDBLOCK { return answers }
                // ENOBUFS: answers were dropped, so what the kernel did is unknown.
                throw error
            }
            var remaining = Int32(received)
            var message = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                if Int32(message.pointee.nlmsg_type) == NLMSG_ERROR {
                    let code = mnl_nlmsg_get_payload(message).load(as: Int32.self)
                    if code < 0 {
                        answers.errors[message.pointee.nlmsg_seq] = -code
                    } else {
                        answers.acknowledged.insert(message.pointee.nlmsg_seq)
                    }
                }
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
    }

    /// Raises the socket's `option` buffer to at least `bytes` (the kernel reports it doubled).
    private func raise(_ option: Int32, force: Int32, to bytes: Int, operation: String) throws(NetlinkError) {
        var current: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, option, &current, &length) == 0, Int(current) / 2 >= bytes { return }
        var wanted = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        guard
            setsockopt(fd, SOL_SOCKET, force, &wanted, size) == 0
                || setsockopt(fd, SOL_SOCKET, option, &wanted, size) == 0
        else {
            throw NetlinkError(operation: "\(operation): make room for \(bytes) bytes", errno: errno)
        }
    }

    /// Sends a request built in `buffer` and collects what `parse` makes of each reply message,
    /// until the dump's DONE — or, for a plain request with `NLM_F_ACK`, the acknowledgement.
    func dump<T>(
        _ request: UnsafeMutablePointer<nlmsghdr>, operation: String, parse: (UnsafePointer<nlmsghdr>) -> T?
    ) throws(NetlinkError) -> [T] {
        let expected = request.pointee.nlmsg_seq
        try SystemCall.check("\(operation): send") {
            mnl_socket_sendto(socket, request, Int(request.pointee.nlmsg_len))
        }
        var results: [T] = []
        while true {
            let received = try SystemCall.check("\(operation): receive") { mnl_socket_recvfrom(socket, buffer, size) }
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
