public import Logging

/// One typed operation, such as `net.interfaces` or `firewall.allow`.
///
/// A tool never changes the machine by itself: the orchestrator calls `plan`, shows the diff for a
/// dry run, and only then runs the plan's `apply`. The pipeline validates the input against
/// `descriptor.inputSchema` before decoding it, so `plan` never sees malformed input.
public protocol Tool: Sendable {
    /// The decoded input. Its JSON form is described by `descriptor.inputSchema`.
    associatedtype Input: Decodable & Sendable
    /// The structured result.
    associatedtype Output: Encodable & Sendable

    /// Name, summary, effect and input schema.
    static var descriptor: ToolDescriptor { get }

    /// Looks, never touches. Returns what would change and how to do (and undo) it.
    ///
    /// - Important: must be side-effect free; must return an empty diff (`.unchanged`) when the
    ///   desired state already holds, so the same call twice changes nothing the second time.
    /// - Throws: `AiosError` (`.invalidInput` for input that is well-formed but wrong, such as an
    ///   unknown interface; `.kernel`/`.unavailable` when state cannot be read).
    func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output>
}

/// What a tool sees of the call it serves.
public struct ToolContext: Sendable {
    /// Who asked.
    public var origin: Origin
    /// The call's id (also the audit row's).
    public var callID: String
    /// The policy's limits, which tools enforce for their own fields (e.g. maximum expiry).
    public var limits: PolicyLimits
    /// The injected clock.
    public var clock: any Clock
    /// A logger tagged with the call.
    public var logger: Logger
    /// Reports progress of long work (a million-line ingest) to whoever waits for the call.
    public var progress: @Sendable (CallProgress) -> Void

    /// Creates a context.
    public init(
        origin: Origin, callID: String, limits: PolicyLimits, clock: any Clock, logger: Logger,
        progress: @escaping @Sendable (CallProgress) -> Void = { _ in }
    ) {
        self.origin = origin
        self.callID = callID
        self.limits = limits
        self.clock = clock
        self.logger = logger
        self.progress = progress
    }
}

/// How far a long call has come.
public struct CallProgress: Sendable, Codable, Hashable {
    /// What is being done (`parsing`, `loading`).
    public var stage: String
    /// Units done.
    public var done: Int
    /// Units in all, when known.
    public var total: Int?

    /// Creates a progress report.
    public init(stage: String, done: Int, total: Int?) {
        self.stage = stage
        self.done = done
        self.total = total
    }
}

/// One line of a plan's diff.
public struct Change: Sendable, Codable, Hashable, CustomStringConvertible {
    /// `add`, `remove` or `set`.
    public var op: String
    /// What changes (`link eth0 mtu`, `rule 12`).
    public var target: String
    /// Optional detail (`1500 → 9000`).
    public var detail: String?

    /// Creates a diff line.
    public init(_ op: String, _ target: String, detail: String? = nil) {
        self.op = op
        self.target = target
        self.detail = detail
    }

    public var description: String {
        let sign = op == "add" ? "+" : op == "remove" ? "-" : "~"
        return detail.map { "\(sign) \(target): \($0)" } ?? "\(sign) \(target)"
    }
}

/// A reference to something a change removes or shadows, checked against the policy's protected items.
public struct ProtectedItem: Sendable, Codable, Hashable {
    /// The item's kind (`firewall_rule`).
    public var kind: String
    /// Attributes the policy's patterns match (`comment`, `port`, …).
    public var attributes: [String: String]

    /// Creates a reference.
    public init(kind: String, attributes: [String: String]) {
        self.kind = kind
        self.attributes = attributes
    }
}

/// What a tool would do: the diff, the step that does it, and the call that undoes it.
public struct ToolPlan<Output: Encodable & Sendable>: Sendable {
    /// What would change; empty when the state already holds (or the tool only reads).
    public var diff: [Change]
    /// True when `apply` alters the machine.
    public var changes: Bool
    /// Performs the change (or the read) and returns the result.
    public var apply: @Sendable () async throws -> Output
    /// The call that restores the previous state; required for disruptive changes (guard rollback).
    public var inverse: CallRequest?
    /// The probe this tool suggests for its guard (the caller's or the policy's may override it).
    public var probe: CallRequest?
    /// Items this change removes or shadows; protected ones make the pipeline refuse the call.
    public var touches: [ProtectedItem]
    /// Post-check run after `apply`; a throw means the change did not take.
    public var verify: (@Sendable (Output) async throws -> Void)?
    /// True when this particular change can cut connectivity although the tool's effect is only
    /// `change` (e.g. a deny touching the management subnet): the pipeline gates it as disruptive
    /// and runs it under the guard.
    public var disruptive: Bool = false
    /// Calls to run after a successful apply, through the pipeline as the same origin (with the
    /// same confirmation): how one module hands state to another without importing it (DNS
    /// servers learned by `net.configure` go to `dns.configure`).
    public var followUps: [CallRequest] = []
    /// Work an applied change leaves for after its call is answered: started once the answer is
    /// delivered (`DeferredWork`) or, for a caller that does not collect it, once the audit row is
    /// written — off the caller's path, so it holds up neither the answer nor the audit row (the
    /// firewall writes a big batch's journaled rules out as rows this way). It must tolerate
    /// running late or not at all (a crash): the state is whole without it.
    public var afterward: (@Sendable () async -> Void)?

    /// A read: no diff, `apply` does the reading.
    public static func read(_ body: @escaping @Sendable () async throws -> Output) -> ToolPlan {
        ToolPlan(diff: [], changes: false, apply: body, inverse: nil, probe: nil, touches: [], verify: nil)
    }

    /// Nothing to do: the desired state already holds.
    public static func unchanged(_ output: Output) -> ToolPlan {
        ToolPlan(diff: [], changes: false, apply: { output }, inverse: nil, probe: nil, touches: [], verify: nil)
    }

    /// A change, with its diff, its undo and what it touches.
    public static func change(
        _ diff: [Change], inverse: CallRequest? = nil, probe: CallRequest? = nil, touches: [ProtectedItem] = [],
        disruptive: Bool = false, followUps: [CallRequest] = [],
        verify: (@Sendable (Output) async throws -> Void)? = nil,
        afterward: (@Sendable () async -> Void)? = nil,
        apply: @escaping @Sendable () async throws -> Output
    ) -> ToolPlan {
        ToolPlan(
            diff: diff, changes: true, apply: apply, inverse: inverse, probe: probe, touches: touches, verify: verify,
            disruptive: disruptive, followUps: followUps, afterward: afterward)
    }
}
