/// Who asked for a call. Policies decide per origin; new origins can be added without breaking
/// existing code (a string-backed struct, not an enum).
public struct Origin: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire name (`user`, `llm`, …).
    public var rawValue: String

    /// Wraps a wire name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `aios-net boot`.
    public static let boot = Origin(rawValue: "boot")
    /// A goal file's reconciler.
    public static let goal = Origin(rawValue: "goal")
    /// A call the LLM proposed.
    public static let llm = Origin(rawValue: "llm")
    /// A person at the CLI.
    public static let user = Origin(rawValue: "user")
    /// Timers the daemon runs on the operator's behalf (blocklist refresh).
    public static let schedule = Origin(rawValue: "schedule")
    /// The link monitor keeping the machine connected (failover, DHCP fallback, new interfaces).
    public static let monitor = Origin(rawValue: "monitor")
    /// The guard running a probe (read tools only).
    public static let `guard` = Origin(rawValue: "guard")
    /// The guard undoing an unconfirmed change; always allowed, never guarded itself.
    public static let rollback = Origin(rawValue: "rollback")

    /// The daemon putting back its own recorded state at start (the firewall table and its
    /// rules after a reboot, the sandbox networks): not a new change, so, like a rollback,
    /// always allowed and audited as such. Only the daemon's start uses it.
    public static let restore = Origin(rawValue: "restore")

    /// The origins a policy file may name.
    public static let known: [Origin] = [
        .boot, .goal, .llm, .user, .schedule, .monitor, .guard, .rollback, .restore,
    ]

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
