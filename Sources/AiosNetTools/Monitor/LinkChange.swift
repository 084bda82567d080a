/// One coalesced change the link monitor saw (old → new state of one interface).
public struct LinkChange: Sendable, Codable, Hashable {
    /// `link_added`, `link_removed`, `link_up`, `link_down`, `carrier_lost`, `carrier_restored`,
    /// `addresses_changed`, `routes_changed`.
    public var kind: String
    public var interface: String
    /// The state before and after, for people.
    public var old: String?
    public var new: String?

    /// Creates a change.
    public init(kind: String, interface: String, old: String?, new: String?) {
        self.kind = kind
        self.interface = interface
        self.old = old
        self.new = new
    }
}

/// Who gets the link monitor's changes besides the audit trail (the goals reconciler will be one).
public protocol LinkChangeHandling: Sendable {
    /// Called with each coalesced burst of changes, in order; must return quickly (queue work).
    func linksChanged(_ changes: [LinkChange]) async
}
