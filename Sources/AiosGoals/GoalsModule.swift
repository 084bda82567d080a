public import AiosCore
public import AiosLinux
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
    let kernelEvents: (@Sendable () throws -> AsyncStream<NetlinkEvent>)?
    let firewallRemovals: (@Sendable () throws -> AsyncStream<NftablesRemoval>)?
    let logger: Logger

    /// A module over `kinds`, fed by `sources`; `kernelEvents` announces the kernel's link,
    /// address and route changes, `firewallRemovals` what goes from nf_tables tables (the
    /// daemon's netlink subscriptions; nil in unit tests).
    public init(
        kinds: GoalKinds, sources: [any GoalSource], store: Store, clock: any Clock = SystemClock(),
        settings: GoalSettings, kernelEvents: (@Sendable () throws -> AsyncStream<NetlinkEvent>)? = nil,
        firewallRemovals: (@Sendable () throws -> AsyncStream<NftablesRemoval>)? = nil, logger: Logger
    ) {
        self.kernelEvents = kernelEvents
        self.firewallRemovals = firewallRemovals
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
        [
            GoalWork(
                reconciler: reconciler, sources: sources, kernelEvents: kernelEvents,
                firewallRemovals: firewallRemovals, logger: logger)
        ]
    }
}

/// Runs the reconciler and its sources until shutdown.
struct GoalWork: BackgroundWork {
    let reconciler: GoalReconciler
    let sources: [any GoalSource]
    let kernelEvents: (@Sendable () throws -> AsyncStream<NetlinkEvent>)?
    let firewallRemovals: (@Sendable () throws -> AsyncStream<NftablesRemoval>)?
    let logger: Logger
    var name: String { "goal.reconciler" }

    func run(calls: any ToolCalling) async throws {
        try await reconciler.load()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reconciler.run(calls: calls) }
            if let kernelEvents {
                group.addTask {
                    do {
                        // A burst (a link flap, a DHCP lease's address and routes) is one look.
                        for await _ in try kernelEvents() {
                            await reconciler.kernelChanged()
                        }
                    } catch {
                        logger.error("goals get no kernel events: \(error)")
                    }
                }
            }
            if let firewallRemovals {
                group.addTask {
                    do {
                        // An element or rule deleted with `nft` behind the daemon's back.
                        for await removal in try firewallRemovals()
                        where removal.table.isEmpty || removal.table.hasPrefix("aios") {
                            await reconciler.firewallRemoved()
                        }
                    } catch {
                        logger.error("goals get no nf_tables events: \(error)")
                    }
                }
            }
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
