public import AiosCore
import AiosLinux

/// `net.interfaces`: every interface with its kind, MAC, MTU, flags, state, carrier and addresses.
public struct InterfacesTool: Tool {
    /// Optional filter by name.
    public struct Input: Decodable, Sendable {
        /// Only this interface.
        public var name: String?
    }

    /// The interfaces, ordered by index.
    public struct Output: Codable, Sendable {
        /// One entry per interface.
        public var interfaces: [Interface]
    }

    /// One interface.
    public struct Interface: Codable, Sendable, Equatable {
        public var index: Int
        public var name: String
        /// `veth`, `bridge`, `tun`, …; nil for physical and loopback devices.
        public var kind: String?
        /// `ether`, `loopback`, `none` or the ARPHRD number.
        public var linkType: String
        /// `aa:bb:cc:dd:ee:ff`, nil when the link has none.
        public var mac: String?
        public var mtu: Int
        /// `ip`-style flag names (`BROADCAST`, `MULTICAST`, `UP`, `LOWER_UP`, `NO-CARRIER`…).
        public var flags: [String]
        /// RFC 2863 operational state as `ip` prints it (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`…).
        public var state: String
        /// Carrier, when the kernel reports it.
        public var carrier: Bool?
        /// The bridge (or other master) this link is enslaved to.
        public var master: String?
        public var addresses: [Address]

        enum CodingKeys: String, CodingKey {
            case index, name, kind, mac, mtu, flags, state, carrier, master, addresses
            case linkType = "link_type"
        }
    }

    /// One address.
    public struct Address: Codable, Sendable, Equatable {
        /// `inet` or `inet6`.
        public var family: String
        public var address: String
        public var prefixLength: Int
        /// `global`, `link`, `host`, …
        public var scope: String
        /// The point-to-point peer, when it differs.
        public var peer: String?

        enum CodingKeys: String, CodingKey {
            case family, address, scope, peer
            case prefixLength = "prefix_length"
        }
    }

    public static let descriptor = ToolDescriptor(
        name: "net.interfaces",
        summary: "List network interfaces with kind, MAC, MTU, flags, state, carrier and addresses (rtnetlink)",
        effect: .read,
        inputSchema: .object(
            ["name": .string("Only this interface", pattern: "^[^/\\s]{1,15}$")],
            examples: [[:], ["name": "eth0"]]))

    let reader: any NetworkStateReading

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read {
            let links: [NetlinkLink]
            let addresses: [NetlinkAddress]
            do {
                links = try reader.links()
                addresses = try reader.addresses()
            } catch {
                throw kernelError("interfaces", error)
            }
            if let name = input.name, !links.contains(where: { $0.name == name }) {
                throw AiosError(
                    .notFound, "no interface named \(name); `aios-net call net.interfaces` lists them",
                    location: InputLocation(field: "input.name"))
            }
            let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
            let interfaces = links.sorted { $0.index < $1.index }
                .filter { input.name == nil || $0.name == input.name }
                .map { link in
                    Interface(
                        index: Int(link.index), name: link.name, kind: link.kind,
                        linkType: LinkNames.linkType(link.hardwareType),
                        mac: link.hardwareAddress.isEmpty ? nil : IPAddressText.mac(link.hardwareAddress),
                        mtu: Int(link.mtu),
                        flags: LinkNames.flags(link.flags), state: LinkNames.operState(link.operState),
                        carrier: link.carrier,
                        master: link.master.flatMap { names[$0] },
                        addresses: addresses.filter { $0.index == link.index }.map { address in
                            Address(
                                family: address.family == 2 ? "inet" : "inet6", address: address.address,
                                prefixLength: Int(address.prefixLength), scope: LinkNames.scope(address.scope),
                                peer: address.peer)
                        })
                }
            return Output(interfaces: interfaces)
        }
    }
}
