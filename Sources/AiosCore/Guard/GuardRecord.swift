/// The state of a guard.
public enum GuardState: String, Sendable, Codable, CaseIterable {
    /// Applied; waiting for the probe to pass or a person to confirm.
    case pending
    /// The probe passed or a person confirmed: the change stays.
    case confirmed
    /// The inverse is running.
    case rollingBack = "rolling_back"
    /// The inverse ran: the previous state is back.
    case rolledBack = "rolled_back"
    /// The inverse failed; a person must look.
    case rollbackFailed = "rollback_failed"

    /// True while the guard still owns the change (recovery must finish it after a crash).
    public var isOpen: Bool { self == .pending || self == .rollingBack }
}

/// One guarded change, written to the database *before* the change is applied, so a daemon
/// killed inside the window can finish the rollback when it starts again.
public struct GuardRecord: Sendable, Codable, Hashable {
    /// The guard's id.
    public var id: String
    /// The guarded call's id.
    public var callID: String
    /// The guarded tool.
    public var tool: String
    /// Who made the guarded call.
    public var origin: Origin
    /// The call that restores the previous state.
    public var inverse: CallRequest
    /// The probe that must pass; nil means a person must confirm.
    public var probe: CallRequest?
    /// When the guard was opened, epoch ms.
    public var createdMs: Int64
    /// When it rolls back unless confirmed, epoch ms.
    public var deadlineMs: Int64
    /// Its state.
    public var state: GuardState
    /// Why it ended as it did.
    public var note: String?

    /// Creates a record.
    public init(
        id: String, callID: String, tool: String, origin: Origin, inverse: CallRequest, probe: CallRequest?,
        createdMs: Int64, deadlineMs: Int64, state: GuardState = .pending, note: String? = nil
    ) {
        self.id = id
        self.callID = callID
        self.tool = tool
        self.origin = origin
        self.inverse = inverse
        self.probe = probe
        self.createdMs = createdMs
        self.deadlineMs = deadlineMs
        self.state = state
        self.note = note
    }
}

/// Durable storage of guards. Implemented by the store; faked in tests.
public protocol GuardStore: Sendable {
    /// Writes a new guard. Must be durable when it returns (the change is applied right after).
    func open(_ record: GuardRecord) async throws

    /// Moves a guard from one of `from` to `to`; returns false when it was in another state
    /// (someone else already confirmed or rolled it back). Atomic.
    func transition(id: String, from: Set<GuardState>, to: GuardState, note: String?) async throws -> Bool

    /// The guard with `id`, or nil.
    func guardRecord(id: String) async throws -> GuardRecord?

    /// Every guard that is still open (pending or rolling back), oldest first.
    func openGuards() async throws -> [GuardRecord]
}
