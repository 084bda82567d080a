public import Foundation

/// A request to run one tool, from any origin: the only way anything changes the machine.
public struct ToolCall: Sendable, Codable {
    /// A unique id, also the audit row's call id.
    public var id: String
    /// The tool's name.
    public var tool: String
    /// The tool's input, not yet validated.
    public var input: JSONValue
    /// Who asked.
    public var origin: Origin
    /// A person confirmed the call (`--yes`); satisfies a policy's `confirm` decision.
    public var confirmed: Bool
    /// Stop after the plan and report the diff.
    public var dryRun: Bool
    /// Overrides for the guard of a disruptive call.
    public var guardOptions: GuardOptions?
    /// On whose behalf an origin acts (`goal:NAME` for a goal's calls); kept in the audit row.
    public var subject: String?
    /// The input as the caller typed it, when it arrives as text; the pipeline's first step parses
    /// it (so even unparsable input gets its audit row). Overrides `input` when set.
    public var rawInput: String?

    /// Creates a call with a fresh id.
    public init(
        tool: String, input: JSONValue = [:], origin: Origin, confirmed: Bool = false, dryRun: Bool = false,
        guardOptions: GuardOptions? = nil, rawInput: String? = nil, subject: String? = nil,
        id: String = UUID().uuidString.lowercased()
    ) {
        self.subject = subject
        self.rawInput = rawInput
        self.id = id
        self.tool = tool
        self.input = input
        self.origin = origin
        self.confirmed = confirmed
        self.dryRun = dryRun
        self.guardOptions = guardOptions
    }
}

/// How a disruptive call is guarded: the probe that must pass and the window it has.
public struct GuardOptions: Sendable, Codable, Hashable {
    /// A read call that must succeed for the change to be kept; nil means wait for an explicit
    /// confirmation (`aios-net guard confirm ID`).
    public var probe: CallRequest?
    /// How long the probe (or a person) has, in milliseconds.
    public var windowMs: Int64?

    /// Creates options.
    public init(probe: CallRequest? = nil, windowMs: Int64? = nil) {
        self.probe = probe
        self.windowMs = windowMs
    }

    private enum CodingKeys: String, CodingKey {
        case probe
        case windowMs = "window_ms"
    }
}
