/// The names `ip` prints for kernel numbers, so output reads the same as `ip -j`.
enum LinkNames {
    /// IFF_* flags in `ip`'s order, with `NO-CARRIER` first when up without carrier.
    static func flags(_ value: UInt32) -> [String] {
        let table: [(UInt32, String)] = [
            (0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"), (0x80, "NOARP"),
            (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x4, "DEBUG"),
            (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"), (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"),
            (0x10000, "LOWER_UP"), (0x20000, "DORMANT"), (0x40000, "ECHO"),
        ]
        var names: [String] = []
        if value & 0x1 != 0, value & 0x40 == 0 { names.append("NO-CARRIER") }
        for (bit, name) in table where value & bit != 0 { names.append(name) }
        return names
    }

    static func operState(_ value: UInt8) -> String {
        let names = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]
        return Int(value) < names.count ? names[Int(value)] : "\(value)"
    }

    static func scope(_ value: UInt8) -> String {
        switch value {
        case 0: "global"
        case 200: "site"
        case 253: "link"
        case 254: "host"
        case 255: "nowhere"
        default: "\(value)"
        }
    }

    static func linkType(_ value: UInt16) -> String {
        switch value {
        case 1: "ether"
        case 772: "loopback"
        case 65534: "none"
        case 768: "ipip"
        case 776: "sit"
        case 778: "gre"
        default: "\(value)"
        }
    }

    static func routeProtocol(_ value: UInt8) -> String {
        switch value {
        case 0: "unspec"
        case 1: "redirect"
        case 2: "kernel"
        case 3: "boot"
        case 4: "static"
        case 16: "dhcp"
        case 186: "bgp"
        case 188: "ospf"
        default: "\(value)"
        }
    }

    static func routeType(_ value: UInt8) -> String {
        let names = [
            "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable",
            "prohibit", "throw", "nat", "xresolve",
        ]
        return Int(value) < names.count ? names[Int(value)] : "\(value)"
    }

    static func table(_ value: UInt32) -> String {
        switch value {
        case 253: "default"
        case 254: "main"
        case 255: "local"
        default: "\(value)"
        }
    }
}
