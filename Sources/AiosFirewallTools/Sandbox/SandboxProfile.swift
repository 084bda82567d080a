import AiosCore
import AiosLinux

/// What a workload on a sandbox network may reach (seed 002 and the container modes of seed 001).
enum SandboxProfile: String, CaseIterable, Sendable {
    /// No network: no interface is made for the workload.
    case none
    /// The host's own services only (every port on the bridge address); nothing is forwarded.
    case hostLoopback = "host-loopback"
    /// The default: egress to DNS 53, HTTP 80, HTTPS 443, SSH 22, git 9418 only, replies allowed,
    /// no unsolicited inbound, no workload-to-workload traffic, masqueraded to the uplink.
    case natFiltered = "nat-filtered"
    /// An interface and an address, but nothing is allowed anywhere (attempts are logged).
    case isolated
    /// Like nat-filtered with an explicit allow list instead of the fixed ports.
    case custom

    /// The egress ports of `nat-filtered`, TCP (53 also UDP).
    static let natFilteredTCPPorts = [22, 53, 80, 443, 9418]

    /// Whether the workload gets an interface.
    var plumbed: Bool { self != .none }
}

/// One entry of a `custom` profile's allow list: protocol, port(s), destination.
struct SandboxAllowEntry: Sendable, Hashable, Codable {
    /// `tcp` or `udp`.
    var protocolName: String
    /// First and last port.
    var ports: ClosedRange<Int>
    /// Destination prefix (`0.0.0.0/0` for any).
    var destination: String

    enum CodingKeys: String, CodingKey {
        case protocolName = "protocol", ports, destination
    }

    init(protocolName: String, ports: ClosedRange<Int>, destination: String) {
        self.protocolName = protocolName
        self.ports = ports
        self.destination = destination
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        protocolName = try container.decode(String.self, forKey: .protocolName)
        let bounds = try container.decode([Int].self, forKey: .ports)
        ports = bounds[0]...bounds[bounds.count - 1]
        destination = try container.decode(String.self, forKey: .destination)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(protocolName, forKey: .protocolName)
        try container.encode([ports.lowerBound, ports.upperBound], forKey: .ports)
        try container.encode(destination, forKey: .destination)
    }

    var summary: String {
        let port = ports.count == 1 ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
        return "\(protocolName) \(port) to \(destination == "0.0.0.0/0" ? "any" : destination)"
    }

    /// Validates one raw entry (`{"protocol", "port", "destination"}`).
    /// - Throws: `AiosError.invalidInput` naming `field`.
    static func parse(_ raw: AllowInput, field: String) throws -> SandboxAllowEntry {
        let protocolName = raw.protocolName ?? "tcp"
        guard ["tcp", "udp"].contains(protocolName) else {
            throw AiosError(
                .invalidInput, "protocol \(protocolName) is not tcp or udp",
                location: InputLocation(field: "\(field).protocol"))
        }
        let ranges = try raw.port.ranges(field: "\(field).port")
        guard ranges.count == 1 else {
            throw AiosError(
                .invalidInput, "one port or range per allow entry (add another entry for more)",
                location: InputLocation(field: "\(field).port"))
        }
        let ports = ranges[0].low...ranges[0].high
        var destination = "0.0.0.0/0"
        if let text = raw.destination, text != "any" {
            guard let cidr = CIDR(text), !cidr.isIPv6 else {
                throw AiosError(
                    .invalidInput, "\(text) is not an IPv4 address or prefix (sandboxes are IPv4)",
                    location: InputLocation(field: "\(field).destination"))
            }
            destination = cidr.network.description
        }
        return SandboxAllowEntry(protocolName: protocolName, ports: ports, destination: destination)
    }

    /// Refuses overlapping entries: the kernel's interval set would reject them with a bare error.
    static func checkOverlaps(_ entries: [SandboxAllowEntry], field: String) throws {
        for (i, a) in entries.enumerated() {
            for (j, b) in entries.enumerated() where j > i && a.protocolName == b.protocolName {
                guard a.ports.overlaps(b.ports), let x = CIDR(a.destination), let y = CIDR(b.destination), x.overlaps(y)
                else { continue }
                throw AiosError(
                    .invalidInput, "allow entries \(i) (\(a.summary)) and \(j) (\(b.summary)) overlap; merge them",
                    location: InputLocation(field: "\(field)[\(j)]"))
            }
        }
    }
}

/// A raw allow entry as the caller writes it.
struct AllowInput: Decodable, Sendable {
    var protocolName: String?
    var port: PortSpec
    var destination: String?

    enum CodingKeys: String, CodingKey {
        case protocolName = "protocol", port, destination
    }
}
