public import AiosCore
public import AiosStore

/// A goal as its handler sees it: the document and its expiry resolved.
public struct Goal: Sendable {
    /// The document in force.
    public var document: GoalDocument
    /// When it expires, epoch ms.
    public var expiresMs: Int64?
    /// The document differs from the one last applied: what the goal owns was made for the old
    /// one, and the handler says which of it the new one no longer wants (`GoalStep.stale`).
    public var isNewGeneration: Bool
    /// The kernel announced removals from what this goal's kind manages (an element deleted with
    /// `nft`): the handler checks the kernel itself, not only the store's view of it.
    public var recheckKernel: Bool

    /// Creates a goal.
    public init(document: GoalDocument, expiresMs: Int64?, isNewGeneration: Bool = false, recheckKernel: Bool = false) {
        self.document = document
        self.expiresMs = expiresMs
        self.isNewGeneration = isNewGeneration
        self.recheckKernel = recheckKernel
    }

    /// Its name.
    public var name: String { document.name }
    /// Its spec.
    public var spec: JSONValue { document.spec }
    /// The audit subject of its calls.
    public var subject: String { "goal:\(name)" }
}

/// The outputs of the read calls handlers asked for, made once per reconcile pass and shared.
public struct Observations: Sendable {
    var outputs: [CallRequest: Result<JSONValue, AiosError>]

    /// Creates observations (tests give them directly).
    public init(_ outputs: [CallRequest: Result<JSONValue, AiosError>] = [:]) { self.outputs = outputs }

    /// The output of `request`.
    /// - Throws: the read's own error, or `.unavailable` when it was not made.
    public func output(_ request: CallRequest) throws(AiosError) -> JSONValue {
        switch outputs[request] {
        case .success(let value): return value
        case .failure(let error): throw error
        case nil: throw AiosError(.unavailable, "\(request.tool) was not read")
        }
    }

    /// The output of `request`, or nil when the read failed.
    public func outputIfRead(_ request: CallRequest) -> JSONValue? { try? output(request) }
}

/// Something a goal's call made that the goal then owns.
public struct OwnedItem: Sendable, Hashable {
    /// What it is (`firewall.rule`, `dns.record`).
    public var kind: String
    /// Its id in that kind.
    public var id: String
    /// What it was, for people.
    public var detail: String?

    /// Creates an item.
    public init(kind: String, id: String, detail: String? = nil) {
        self.kind = kind
        self.id = id
        self.detail = detail
    }
}

/// One call a handler wants made, and how to read what the goal owns from its output.
public struct PlannedCall: Sendable {
    /// The call.
    public var request: CallRequest
    /// What the output says was made. `adopting` is true when a previous run made this call and
    /// died before recording its outcome: then what the call found already in force is ours.
    public var owns: @Sendable (_ output: JSONValue, _ adopting: Bool) -> [OwnedItem]
    /// The guard of a disruptive call: the probe that proves the machine still reaches what it
    /// must (no person is there to confirm a goal's change).
    public var guardOptions: GuardOptions?

    /// Creates a planned call.
    public init(
        _ request: CallRequest, guardOptions: GuardOptions? = nil,
        owns: @escaping @Sendable (_ output: JSONValue, _ adopting: Bool) -> [OwnedItem] = { _, _ in [] }
    ) {
        self.request = request
        self.guardOptions = guardOptions
        self.owns = owns
    }
}

/// What a handler decided for one goal: the calls that close the gap, its health, when to look again.
public struct GoalStep: Sendable {
    /// Calls to make, in order (none when the machine already matches).
    public var calls: [PlannedCall]
    /// Nil when healthy; otherwise why the goal is degraded (a failing health probe).
    public var degraded: String?
    /// Look again after this many ms (sooner than the resync), e.g. a health probe's interval.
    public var recheckAfterMs: Int64?
    /// Owned items the machine no longer has (forgotten, so the next calls make them again).
    public var gone: [GoalResource]
    /// Owned items a new generation no longer wants: removed once `calls` succeeded (make before
    /// break), unless a call reports one still in force as what it wants.
    public var stale: [GoalResource]

    /// Creates a step.
    public init(
        calls: [PlannedCall] = [], degraded: String? = nil, recheckAfterMs: Int64? = nil, gone: [GoalResource] = [],
        stale: [GoalResource] = []
    ) {
        self.calls = calls
        self.degraded = degraded
        self.recheckAfterMs = recheckAfterMs
        self.gone = gone
        self.stale = stale
    }
}

/// What a goal wants of one thing, so two goals that want it differently are both `conflict`.
public struct GoalClaim: Sendable, Hashable {
    /// The thing (`firewall input tcp 80 from 10.0.0.0/8`, `dns nas.lan`).
    public var key: String
    /// What the goal wants of it (`allow`, `10.0.0.2`).
    public var value: String

    /// Creates a claim.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A goal kind's plugin (controller-runtime's reconcile, level-based): given the spec, the
/// observed machine (read tools' outputs) and what the goal owns, it returns the tool calls that
/// close the gap. It never executes anything: the reconciler submits its calls through the one
/// pipeline with origin `goal`. Handlers know the tools' contracts (names, schemas, outputs),
/// never a tool module's code.
public protocol GoalHandler: Sendable {
    /// The kind (`FirewallRule`).
    var kind: String { get }
    /// One line for `goal schema` and the docs.
    var summary: String { get }
    /// Tools whose changes by anyone else may break this kind's goals (`firewall.` prefixes):
    /// such a change reconciles them at once.
    var watches: [String] { get }
    /// True when the kernel's link, address and route events (carrier lost, a lease's address
    /// gone, a route deleted) should reconcile this kind's goals at once.
    var watchesKernel: Bool { get }
    /// The JSON Schema of `spec`, built from the driven tools' schemas (same field names).
    func specSchema(_ tools: ToolRegistry) -> JSONSchema
    /// Checks beyond the schema (a field pair); the error's field is `spec.…`.
    func validate(_ spec: JSONValue) throws
    /// The reads `reconcile` needs.
    func reads(_ goal: Goal) -> [CallRequest]
    /// The calls that make the machine match `goal`.
    func reconcile(_ goal: Goal, observed: Observations, owned: [GoalResource]) throws -> GoalStep
    /// The calls that remove exactly what the goal owns.
    func retract(_ owned: [GoalResource]) -> [CallRequest]
    /// What the goal wants, for conflicts between goals.
    func claims(_ goal: Goal) -> [GoalClaim]
}

extension GoalHandler {
    public var watches: [String] { [] }
    public var watchesKernel: Bool { false }
    public func validate(_ spec: JSONValue) throws {}
}

/// The goal kinds the daemon knows, one handler each (installed in the assembly, one line each).
public struct GoalKinds: Sendable {
    private var handlers: [String: any GoalHandler] = [:]
    private var schemas: [String: JSONSchema] = [:]
    /// The tools the handlers' schemas come from.
    public let tools: ToolRegistry

    /// Kinds over `tools`.
    public init(tools: ToolRegistry) { self.tools = tools }

    /// Adds a kind.
    /// - Throws: `AiosError.internal` when the kind is taken.
    public mutating func install(_ handler: any GoalHandler) throws {
        guard handlers[handler.kind] == nil else {
            throw AiosError(.internal, "goal kind \(handler.kind) is installed twice")
        }
        handlers[handler.kind] = handler
        schemas[handler.kind] = handler.specSchema(tools)
    }

    /// The kinds, sorted.
    public var names: [String] { handlers.keys.sorted() }

    /// The handler of `kind`.
    public func handler(_ kind: String) -> (any GoalHandler)? { handlers[kind] }

    /// The spec schema of `kind` (an open object for an unknown one).
    public func schema(_ kind: String) -> JSONSchema { schemas[kind] ?? JSONSchema(["type": "object"]) }
}

extension ToolRegistry {
    /// The properties `names` of `tool`'s input schema, for a goal spec that uses its field names.
    func properties(of tool: String, _ names: [String]) -> [String: JSONSchema] {
        let properties = descriptor(named: tool)?.inputSchema.document["properties"]?.objectValue ?? [:]
        var chosen: [String: JSONSchema] = [:]
        for name in names { if let schema = properties[name] { chosen[name] = JSONSchema(schema) } }
        return chosen
    }
}
