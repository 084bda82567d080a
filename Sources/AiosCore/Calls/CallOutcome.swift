/// What a call did, as the CLI and programs see it.
public struct CallOutcome: Sendable, Codable {
    /// How the call ended.
    public enum Status: String, Sendable, Codable {
        /// A read tool ran.
        case read
        /// A change was applied (and, if guarded, its probe passed).
        case applied
        /// The desired state already held; nothing was changed.
        case unchanged
        /// `--dry-run`: the plan is shown, nothing was applied.
        case planned
        /// A guarded change is applied and waits for `guard confirm` before its deadline.
        case awaitingConfirmation = "awaiting_confirmation"
    }

    /// The call's id.
    public var callID: String
    /// The tool's name.
    public var tool: String
    /// Who asked.
    public var origin: Origin
    /// How the call ended.
    public var status: Status
    /// The policy's verdict and reason.
    public var decision: PolicyDecision
    /// What changed (or would change, for a dry run).
    public var diff: [Change]
    /// The tool's output (absent for dry runs), secrets redacted.
    public var output: JSONValue?
    /// The guard, for disruptive changes.
    public var guardState: GuardSummary?
    /// Wall time of the whole pipeline, microseconds.
    public var durationMicros: Int64
    /// The follow-up calls the tool asked for, and how each ended.
    public var followUps: [FollowUp] = []

    /// Creates an outcome.
    public init(
        callID: String, tool: String, origin: Origin, status: Status, decision: PolicyDecision, diff: [Change],
        output: JSONValue?, guardState: GuardSummary?, durationMicros: Int64
    ) {
        self.callID = callID
        self.tool = tool
        self.origin = origin
        self.status = status
        self.decision = decision
        self.diff = diff
        self.output = output
        self.guardState = guardState
        self.durationMicros = durationMicros
    }

    private enum CodingKeys: String, CodingKey {
        case callID = "call_id", tool, origin, status, decision, diff, output
        case guardState = "guard"
        case durationMicros = "duration_us"
        case followUps = "follow_ups"
    }
}

/// A follow-up call and how it ended.
public struct FollowUp: Sendable, Codable, Hashable {
    /// The tool.
    public var tool: String
    /// Its status (`applied`, `unchanged`, `awaiting_confirmation`, …) or `error`.
    public var status: String
    /// Why it failed.
    public var error: String?

    /// Creates a record.
    public init(tool: String, status: String, error: String?) {
        self.tool = tool
        self.status = status
        self.error = error
    }
}

/// The guard of one disruptive call, as reported to callers.
public struct GuardSummary: Sendable, Codable, Hashable {
    /// The guard's id (for `guard confirm`).
    public var id: String
    /// Its state after the call returned.
    public var state: GuardState
    /// When it rolls back unless confirmed, epoch ms.
    public var deadlineMs: Int64
    /// The probe, if any.
    public var probe: CallRequest?

    /// Creates a summary.
    public init(id: String, state: GuardState, deadlineMs: Int64, probe: CallRequest?) {
        self.id = id
        self.state = state
        self.deadlineMs = deadlineMs
        self.probe = probe
    }

    private enum CodingKeys: String, CodingKey {
        case id, state, probe
        case deadlineMs = "deadline_ms"
    }
}
