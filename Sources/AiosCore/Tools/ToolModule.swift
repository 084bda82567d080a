/// A plugin that owns one namespace of tools (`net`, `firewall`, `dns`).
///
/// The daemon installs modules in one assembly file, one line each; core knows no module.
public protocol ToolModule: Sendable {
    /// The namespace every tool of this module is named under.
    static var namespace: String { get }

    /// Adds this module's tools.
    /// - Throws: `AiosError` when a tool's name is taken or outside `namespace`.
    func register(in registry: inout ToolRegistry) throws

    /// Long-running work the module needs while the daemon runs (a supervised helper process,
    /// a refresh timer). Default: none.
    var background: [any BackgroundWork] { get }
}

extension ToolModule {
    public var background: [any BackgroundWork] { [] }
}

/// Runs tool calls through the pipeline: what background work uses to change anything.
public protocol ToolCalling: Sendable {
    /// Runs one call through the pipeline (see `Orchestrator.execute`).
    func execute(_ call: ToolCall) async throws -> CallOutcome
}

extension Orchestrator: ToolCalling {}

extension ToolCalling {
    /// Runs `call`, its failure as a value (any error as `AiosError`, the cause kept).
    public func result(_ call: ToolCall) async -> Result<CallOutcome, AiosError> {
        do {
            return .success(try await execute(call))
        } catch {
            return .failure(Orchestrator.wrap(error))
        }
    }
}

/// Hears of every change the pipeline applied, after its audit row (the goals' drift trigger: a
/// rule a person removed reconciles the goal that wants it). Must return at once.
public protocol CallObserver: Sendable {
    /// `call` changed the machine.
    func applied(_ call: ToolCall) async
}

/// One long-running part of a module (the daemon runs each as a service until shutdown).
public protocol BackgroundWork: Sendable {
    /// A name for logs (`dns.resolver`).
    var name: String { get }

    /// Works until cancelled (graceful shutdown cancels it). Changes to the machine go through
    /// `calls`, so they pass policy and audit like any other.
    /// - Throws: only for failures the daemon cannot work without; transient ones are handled inside.
    func run(calls: any ToolCalling) async throws
}
