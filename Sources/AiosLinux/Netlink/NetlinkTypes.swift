/// A network interface as rtnetlink reports it (RTM_NEWLINK).
public struct NetlinkLink: Sendable, Hashable {
    /// Interface index.
    public var index: Int32
    /// Interface name.
    public var name: String
    /// `IFLA_INFO_KIND` (`veth`, `bridge`, `tun`, …), nil for physical and loopback devices.
    public var kind: String?
    /// ARPHRD_* hardware type (1 ether, 772 loopback, 65534 none).
    public var hardwareType: UInt16
    /// Hardware address bytes, if any.
    public var hardwareAddress: [UInt8]
    /// MTU.
    public var mtu: UInt32
    /// IFF_* flags.
    public var flags: UInt32
    /// RFC 2863 operational state (0 unknown … 6 up).
    public var operState: UInt8
    /// `IFLA_CARRIER`, if reported.
    public var carrier: Bool?
    /// The master device's index (bridge port), if any.
    public var master: Int32?

    /// A value with these fields (fakes and tests build them; the kernel's come from dumps).
    public init(
        index: Int32, name: String, kind: String? = nil, hardwareType: UInt16 = 1, hardwareAddress: [UInt8] = [],
        mtu: UInt32 = 1500, flags: UInt32 = 0, operState: UInt8 = 0, carrier: Bool? = nil, master: Int32? = nil
    ) {
        self.index = index
        self.name = name
        self.kind = kind
        self.hardwareType = hardwareType
        self.hardwareAddress = hardwareAddress
        self.mtu = mtu
        self.flags = flags
        self.operState = operState
        self.carrier = carrier
        self.master = master
    }
}

/// An interface address (RTM_NEWADDR).
public struct NetlinkAddress: Sendable, Hashable {
    /// Interface index.
    public var index: Int32
    /// AF_INET or AF_INET6.
    public var family: UInt8
    /// The address (IFA_LOCAL when present, else IFA_ADDRESS), in text form.
    public var address: String
    /// The peer address on point-to-point links, if it differs.
    public var peer: String?
    /// Prefix length.
    public var prefixLength: UInt8
    /// RT_SCOPE_* (0 universe/global, 253 link, 254 host).
    public var scope: UInt8
    /// IFA_F_* flags.
    public var flags: UInt32
    /// Label (IPv4), if any.
    public var label: String?

    /// A value with these fields (fakes and tests build them; the kernel's come from dumps).
    public init(
        index: Int32, family: UInt8, address: String, peer: String? = nil, prefixLength: UInt8, scope: UInt8 = 0,
        flags: UInt32 = 0, label: String? = nil
    ) {
        self.index = index
        self.family = family
        self.address = address
        self.peer = peer
        self.prefixLength = prefixLength
        self.scope = scope
        self.flags = flags
        self.label = label
    }
}

/// A route (RTM_NEWROUTE).
public struct NetlinkRoute: Sendable, Hashable {
    /// AF_INET or AF_INET6.
    public var family: UInt8
    /// Destination, nil for the default route.
    public var destination: String?
    /// Destination prefix length.
    public var destinationLength: UInt8
    /// Gateway, if any.
    public var gateway: String?
    /// Output interface index, if any.
    public var outputIndex: Int32?
    /// Metric (RTA_PRIORITY), if set.
    public var priority: UInt32?
    /// Preferred source, if set.
    public var preferredSource: String?
    /// Routing table id (254 main, 255 local).
    public var table: UInt32
    /// RTPROT_* (2 kernel, 3 boot, 4 static, 16 dhcp).
    public var protocolID: UInt8
    /// RT_SCOPE_*.
    public var scope: UInt8
    /// RTN_* (1 unicast, 2 local, 3 broadcast, 6 blackhole, 7 unreachable, 8 prohibit).
    public var type: UInt8
    /// RTM_F_* flags.
    public var flags: UInt32

    /// A value with these fields (fakes and tests build them; the kernel's come from dumps).
    public init(
        family: UInt8, destination: String?, destinationLength: UInt8, gateway: String? = nil,
        outputIndex: Int32? = nil, priority: UInt32? = nil, preferredSource: String? = nil, table: UInt32 = 254,
        protocolID: UInt8 = 4, scope: UInt8 = 0, type: UInt8 = 1, flags: UInt32 = 0
    ) {
        self.family = family
        self.destination = destination
        self.destinationLength = destinationLength
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.priority = priority
        self.preferredSource = preferredSource
        self.table = table
        self.protocolID = protocolID
        self.scope = scope
        self.type = type
        self.flags = flags
    }
}

/// Why a netlink request failed: the one errno type (`SystemCallError`), under the name the
/// netlink code throws. The kernel's answer to a request is an errno like a system call's.
public typealias NetlinkError = SystemCallError

extension SystemCallError {
    /// An error of `operation` with `errno` (positive).
    public init(operation: String, errno: Int32) { self.init(operation, errno: errno) }
}
