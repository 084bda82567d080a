import AiosCore
import AiosLinux
import AiosStore

/// What `apply_default` was asked to make true: the management subnets and ports. Persisted, so
/// `status` can report drift and a plain `apply_default` repairs to it.
struct ManagementIntent: Codable, Sendable, Equatable {
    var subnets: [String]
    var ports: [Int]

    static let settingKey = Store.managementIntentSetting

    var v4: [String] { subnets.compactMap { CIDR($0) }.filter { !$0.isIPv6 }.map(\.description) }
    var v6: [String] { subnets.compactMap { CIDR($0) }.filter(\.isIPv6).map(\.description) }

    /// Validates and normalises subnets (`10.0.0.1` → `10.0.0.1/32`).
    static func normalise(_ subnets: [String], field: String) throws -> [String] {
        try subnets.enumerated().map { index, text in
            guard let cidr = CIDR(text) else {
                throw AiosError(
                    .invalidInput,
                    "\"\(text)\" is not an IPv4 or IPv6 address or prefix (e.g. 192.168.1.0/24, fd00::/8)",
                    location: InputLocation(field: "\(field)[\(index)]"))
            }
            return cidr.description
        }
    }
}
