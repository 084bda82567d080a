import AiosLinux
import Foundation

/// The lease dhcpcd keeps in its state directory (`<iface>.lease`): the server's DHCPACK as sent,
/// a BOOTP message (RFC 2131: the offered address at byte 16, options after the magic cookie at
/// 236). dhcpcd writes it before it configures the address and routes and before it runs its
/// hook, so once the kernel has the address the lease here is the one in force: reading it
/// spares waiting for the hook (a process start).
enum DHCPLeaseFile {
    /// The lease as the hook's `BOUND` event would report it (the same variable names), or nil
    /// when `bytes` is not a DHCP message.
    static func event(_ bytes: [UInt8], interface: String) -> DHCPEvent? {
        guard bytes.count >= 240, bytes[236..<240].elementsEqual([99, 130, 83, 99]) else { return nil }
        func address(_ slice: ArraySlice<UInt8>) -> String? { IPAddressText.format(Array(slice)) }
        guard let offered = address(bytes[16..<20]), offered != "0.0.0.0" else { return nil }
        var variables = ["new_ip_address": offered, "interface": interface, "reason": "BOUND"]
        var index = 240
        while index < bytes.count {
            let code = bytes[index]
            if code == 0 {
                index += 1
                continue
            }
            guard code != 255, index + 1 < bytes.count else { break }
            let length = Int(bytes[index + 1])
            let start = index + 2
            guard start + length <= bytes.count else { break }
            let value = bytes[start..<(start + length)]
            func addresses() -> String {
                stride(from: value.startIndex, to: value.endIndex - 3, by: 4).compactMap {
                    address(value[$0..<($0 + 4)])
                }.joined(separator: " ")
            }
            func number() -> Int { value.reduce(0) { $0 << 8 | Int($1) } }
            switch code {
            case 1 where length == 4: variables["new_subnet_cidr"] = "\(value.reduce(0) { $0 + $1.nonzeroBitCount })"
            case 3: variables["new_routers"] = addresses()
            case 6: variables["new_domain_name_servers"] = addresses()
            case 15: variables["new_domain_name"] = String(decoding: value, as: UTF8.self)
            case 26 where length == 2: variables["new_interface_mtu"] = "\(number())"
            case 51 where length == 4: variables["new_dhcp_lease_time"] = "\(number())"
            case 54 where length == 4: variables["new_dhcp_server_identifier"] = address(value)
            default: break
            }
            index = start + length
        }
        return DHCPEvent(interface: interface, reason: "BOUND", variables: variables)
    }
}
