/// The socket types and flags of `<bits/socket_type.h>`, as Linux's ABI fixes them (the same on
/// x86_64 and arm64). Spelled here because Glibc's `SOCK_*` constants are an enum in a header
/// that CNetlink's shim includes too (through libmnl): which module owns it depends on the order
/// a clean build parses them in, and this module's files then lost `SOCK_STREAM` (swift-notes
/// §1 snag 11).
enum SocketType {
    static let stream: Int32 = 1
    static let datagram: Int32 = 2
    static let raw: Int32 = 3
    /// `SOCK_CLOEXEC` (= `O_CLOEXEC`).
    static let cloexec: Int32 = 0o2_000_000
    /// `SOCK_NONBLOCK` (= `O_NONBLOCK`).
    static let nonblock: Int32 = 0o4000
}
