/// One row of the audit trail: every call, every guard outcome, every policy change.
public struct AuditEvent: Sendable, Codable, Hashable {
    /// Row id (assigned by the store; 0 before).
    public var id: Int64
    /// When, epoch ms.
    public var timestampMs: Int64
    /// What happened: `call`, `guard.confirmed`, `guard.rolled_back`, `policy.rejected`, …
    public var kind: String
    /// The call id, if the event belongs to a call.
    public var callID: String?
    /// Who asked.
    public var origin: String?
    /// The tool, if any.
    public var tool: String?
    /// The input as JSON text, secrets redacted.
    public var input: String?
    /// allow / confirm / deny, if the policy gate ran.
    public var decision: String?
    /// The policy's (or the event's) reason.
    public var reason: String?
    /// `read`, `applied`, `unchanged`, `planned`, `awaiting_confirmation`, `error`, …
    public var result: String
    /// The error code, when the call failed.
    public var errorCode: String?
    /// The error message, when the call failed.
    public var errorMessage: String?
    /// Wall time of the pipeline, µs.
    public var durationMicros: Int64?
    /// The diff as text lines, secrets redacted.
    public var detail: String?
    /// On whose behalf the call ran (`goal:NAME`), when an origin acts for someone.
    public var subject: String?

    /// Creates an event.
    public init(
        id: Int64 = 0, timestampMs: Int64, kind: String, callID: String? = nil, origin: String? = nil,
        tool: String? = nil,
        input: String? = nil, decision: String? = nil, reason: String? = nil, result: String, errorCode: String? = nil,
        errorMessage: String? = nil, durationMicros: Int64? = nil, detail: String? = nil, subject: String? = nil
    ) {
        self.subject = subject
        self.id = id
        self.timestampMs = timestampMs
        self.kind = kind
        self.callID = callID
        self.origin = origin
        self.tool = tool
        self.input = input
        self.decision = decision
        self.reason = reason
        self.result = result
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.durationMicros = durationMicros
        self.detail = detail
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, origin, tool, input, decision, reason, result, detail, subject
        case timestampMs = "ts_ms", callID = "call_id", errorCode = "error_code", errorMessage = "error_message"
        case durationMicros = "duration_us"
    }
}

/// A filter for reading the audit trail.
public struct AuditQuery: Sendable, Codable, Hashable {
    /// Only this tool.
    public var tool: String?
    /// Only this origin.
    public var origin: String?
    /// Only events on behalf of this subject (`goal:NAME`).
    public var subject: String?
    /// Only events at or after this time, epoch ms.
    public var sinceMs: Int64?
    /// At most this many, newest first.
    public var limit: Int

    /// Creates a query.
    public init(
        tool: String? = nil, origin: String? = nil, subject: String? = nil, sinceMs: Int64? = nil, limit: Int = 50
    ) {
        self.subject = subject
        self.tool = tool
        self.origin = origin
        self.sinceMs = sinceMs
        self.limit = limit
    }

    private enum CodingKeys: String, CodingKey {
        case tool, origin, limit, subject
        case sinceMs = "since_ms"
    }
}

/// Where audit events go. Implemented by the store; a no-op sink exists for benchmarks.
public protocol AuditSink: Sendable {
    /// Appends one event. Must be durable (committed) when it returns.
    func record(_ event: AuditEvent) async throws
}

/// Discards events: only the benchmark's denominator uses it.
public struct DiscardingAuditSink: AuditSink {
    /// Creates the sink.
    public init() {}
    public func record(_ event: AuditEvent) async throws {}
}
