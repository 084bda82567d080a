public import AiosCore

/// What `aios-net boot` did and found. The JSON field names are a contract for scripts and
/// checks: fields are added, never renamed.
public struct BootReport: Codable, Sendable {
    /// Every check passed.
    public var ok: Bool
    /// Something was changed (false on a second boot that found everything in place).
    public var changed: Bool
    public var totalMs: Int64
    /// The Connectivity goal applied (`boot`, or the name in the file).
    public var goal: String
    public var links: [Link]
    /// The route chosen as default, and the other links' routes kept for failover.
    public var defaultRoute: Route?
    public var failover: [Route]
    public var firewall: Section?
    public var resolver: Section?
    public var checks: [Check]
    /// What went wrong, one line each (empty when ok).
    public var problems: [String]
    /// On failure, the facts the analyzers start from: the interfaces and routes as read.
    public var facts: JSONValue?

    /// What was tried on one link, what it has and why.
    public struct Link: Codable, Sendable, Equatable {
        public var name: String
        public var carrier: Bool
        /// `dhcp | fallback | static | skipped`.
        public var method: String
        public var addresses: [String]
        public var reason: String
        public var ms: Int64?
    }

    /// A default route.
    public struct Route: Codable, Sendable, Equatable {
        public var interface: String
        public var gateway: String?
        public var metric: Int?
        public var reason: String?
    }

    /// The firewall or the resolver: what was asked, whether it changed, how it went.
    public struct Section: Codable, Sendable {
        public var changed: Bool
        public var ok: Bool
        public var detail: String
        /// The call's output (the firewall's guard, the resolver's upstreams, resolv.conf).
        public var output: JSONValue?
    }

    /// One check of what "connected" means.
    public struct Check: Codable, Sendable, Equatable {
        /// `gateway_ping | dns | https`.
        public var name: String
        public var ok: Bool
        public var ms: Int64
        public var detail: String
    }

    enum CodingKeys: String, CodingKey {
        case ok, changed, goal, links, failover, firewall, resolver, checks, problems, facts
        case totalMs = "total_ms", defaultRoute = "default_route"
    }
}
