public import AiosCore
public import AiosStore
import Foundation
public import Logging

/// Goals: the `goal.*` read tools and the background work that keeps goals true (the reconciler
/// fed by the goal sources). Installed after the tool modules, whose schemas the kinds use.
public struct GoalsModule: ToolModule {
    public static let namespace = "goal"

    /// The reconciler (shared with the daemon's call observer).
    public let reconciler: GoalReconciler
    let store: Store
    let sources: [any GoalSource]
    let logger: Logger

    /// A module over `kinds`, fed by `sources`.
    public init(
        kinds: GoalKinds, sources: [any GoalSource], store: Store, clock: any Clock = SystemClock(),
        settings: GoalSettings, logger: Logger
    ) {
        self.reconciler = GoalReconciler(kinds: kinds, store: store, clock: clock, settings: settings, logger: logger)
        self.store = store
        self.sources = sources
        self.logger = logger
    }

    /// The kinds aios-net ships, one line each.
    public static func standardKinds(tools: ToolRegistry) throws -> GoalKinds {
        var kinds = GoalKinds(tools: tools)
        try kinds.install(ConnectivityHandler())
        try kinds.install(FirewallRuleHandler())
        try kinds.install(ExposeServiceHandler())
        try kinds.install(DNSRecordsHandler())
        try kinds.install(BlockDomainsHandler())
        try kinds.install(InterfaceHandler())
        try kinds.install(NamedResourceHandler(.wireGuardTunnel))
        try kinds.install(NamedResourceHandler(.wireGuardMesh))
        try kinds.install(NamedResourceHandler(.sandboxNetwork))
        try kinds.install(AddressPoolHandler())
        return kinds
    }

    public func register(in registry: inout ToolRegistry) throws {
        try registry.add(GoalListTool(reconciler: reconciler))
        try registry.add(GoalStatusTool(reconciler: reconciler, store: store))
        try registry.add(GoalPlanTool(reconciler: reconciler))
    }

    public var background: [any BackgroundWork] {
        [GoalWork(reconciler: reconciler, sources: sources, logger: logger)]
    }
}

/// Runs the reconciler and its sources until shutdown.
struct GoalWork: BackgroundWork {
    let reconciler: GoalReconciler
    let sources: [any GoalSource]
    let logger: Logger
    var name: String { "goal.reconciler" }

    func run(calls: any ToolCalling) async throws {
        try await reconciler.load()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reconciler.run(calls: calls) }
            for source in sources {
                group.addTask {
                    do {
                        try await source.run(into: reconciler)
                    } catch {
                        logger.error("goal source \(source.label) stopped: \(error)")
                    }
                }
            }
        }
    }
}

extension GoalReconciler: CallObserver {
    public func applied(_ call: ToolCall) async { observed(tool: call.tool, origin: call.origin) }
}
