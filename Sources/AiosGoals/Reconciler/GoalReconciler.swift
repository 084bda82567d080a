public import AiosCore
import AiosLinux
public import AiosStore
import Foundation
public import Logging

/// How goals are kept: resync period, failure backoff, where status files go.
public struct GoalSettings: Sendable {
    /// Every goal is looked at again after about this long (jittered ±20 %), events or not.
    public var resyncMs: Int64
    /// The status directory (nil: no status files).
    public var statusDirectory: String?
    /// How long after someone else's change the goals it may have broken look again: a burst of
    /// a person's or a script's calls is one look, not one per call.
    public var driftSettleMs: Int64

    /// Creates settings.
    public init(resyncMs: Int64 = 300_000, statusDirectory: String? = nil, driftSettleMs: Int64 = 100) {
        self.resyncMs = resyncMs
        self.statusDirectory = statusDirectory
        self.driftSettleMs = driftSettleMs
    }
}

/// Keeps goals true: takes documents from the goal sources, asks each goal's handler for the
/// calls that close the gap, submits them through the one pipeline (origin `goal`, the goal's
/// name as the audit subject), records what each goal owns and its status, retracts what a
/// removed or expired goal owns, and looks again on events, on expiries and on a jittered resync.
public actor GoalReconciler {
    let kinds: GoalKinds
    let store: Store
    let clock: any Clock
    let settings: GoalSettings
    let logger: Logger
    let statusFiles: GoalStatusFiles?
    var calls: (any ToolCalling)?
    /// The documents the sources hold now (a goal absent here is retracted).
    var desired: [String: GoalDocument] = [:]
    /// Goals whose file became invalid: why, while their last generation stays in force.
    var invalid: [String: String] = [:]
    /// Each file's goal names.
    var files: [String: [String]] = [:]
    /// Each file's last error (logged once).
    var fileErrors: [String: String] = [:]
    /// The store's rows, cached.
    var records: [String: GoalRecord] = [:]
    /// What each goal owns, as the store has it (cached: every pass reads it).
    var owned: [String: [GoalResource]] = [:]
    /// Each goal's intents not yet ended (a crash left them, or a call is under way).
    var intents: [String: [String]] = [:]
    var queue: [String] = []
    /// Kinds not reconciled for now (boot applies the Connectivity goal itself), and the goals
    /// of theirs that came up meanwhile.
    var held: Set<String> = []
    var heldBack: Set<String> = []
    /// Open once every source has made its first reading.
    public nonisolated let sourcesRead = AsyncGate()
    /// Kinds whose goals look again once `dueMs` has come (someone else's calls on what they
    /// watch); `kernel`: the kernel announced removals, so they check the kernel itself.
    var drift: (kinds: Set<String>, dueMs: Int64, kernel: Bool)?
    /// Goals whose next look checks the kernel itself (`Goal.recheckKernel`).
    var suspects: Set<String> = []
    var queued: Set<String> = []
    var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    var nextWaiter = 0
    /// Reconcile passes made (for tests and benchmarks).
    public private(set) var passes = 0

    /// Creates a reconciler.
    public init(kinds: GoalKinds, store: Store, clock: any Clock, settings: GoalSettings, logger: Logger) {
        self.kinds = kinds
        self.store = store
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.statusFiles = settings.statusDirectory.map(GoalStatusFiles.init)
    }

    /// The goal kinds.
    public nonisolated var goalKinds: GoalKinds { kinds }

    /// Loads the stored goals: until the sources have been read, each keeps the document last
    /// applied, so a daemon restart retracts nothing; every goal is looked at once.
    public func load() async throws {
        for record in try await store.goals() {
            records[record.name] = record
            if let document = try? GoalDocument(json: record.appliedDocument ?? record.document, source: record.source)
            {
                desired[record.name] = document
            }
            enqueue(record.name)
        }
        owned = Dictionary(grouping: try await store.goalResources(), by: \.goal)
        intents = try await store.goalIntentsByGoal()
        for file in try await store.goalFiles() {
            files[file.path] = file.names
            fileErrors[file.path] = file.error
        }
    }

    /// The status of `name`.
    public func record(_ name: String) -> GoalRecord? { records[name] }

    /// Stops reconciling goals of `kind` until `release`.
    public func hold(_ kind: String) { held.insert(kind) }

    /// Reconciles goals of `kind` again; those that came up meanwhile are looked at now.
    public func release(_ kind: String) {
        held.remove(kind)
        for name in heldBack where desired[name]?.kind == kind || desired[name] == nil { enqueue(name) }
        heldBack = heldBack.filter { desired[$0].map { held.contains($0.kind) } ?? false }
    }

    /// The documents the sources hold now, by name.
    public func desiredDocuments() -> [GoalDocument] { desired.values.sorted { $0.name < $1.name } }

    /// Every goal's status.
    public func allRecords() -> [GoalRecord] { records.values.sorted { $0.name < $1.name } }

    /// Returns once the status files say what the store says now.
    public func statusFilesFlushed() async { await statusFiles?.flushed() }

    /// Files that were refused, with why.
    public func refusedFiles() -> [String: String] { fileErrors }

    /// Reconciles `name` at the next pass.
    func enqueue(_ name: String) {
        if queued.insert(name).inserted { queue.append(name) }
        signal()
    }

    /// The queued goals, in order, leaving the queue empty.
    func takeQueue() -> [String] {
        defer {
            queue = []
            queued = []
        }
        return queue
    }

    /// Someone's call on `tool` finished: goals of kinds that watch it look again once the calls
    /// have settled (`driftSettleMs`; a rule removed behind a goal's back comes back).
    public func observed(tool: String, origin: Origin) {
        guard origin != .goal else { return }
        lookAgain(watching: tool)
    }

    /// The kernel announced a removal from one of aios-net's nf_tables tables (`nft` run by a
    /// person, another program, or aios-net itself): firewall goals look again once it settles.
    public func firewallRemoved() { lookAgain(watching: "firewall.remove", kernel: true) }

    /// Goals of kinds that watch `tool` look again once `driftSettleMs` has passed.
    func lookAgain(watching tool: String, kernel: Bool = false) {
        let watching = Set(
            kinds.names.filter { kind in kinds.handler(kind)!.watches.contains { tool.hasPrefix($0) } })
        guard !watching.isEmpty else { return }
        drift = (
            (drift?.kinds ?? []).union(watching), drift?.dueMs ?? clock.nowMs() + settings.driftSettleMs,
            kernel || drift?.kernel == true
        )
        signal()
    }

    /// Queues the goals whose next check or drift look has come; the next time one is due.
    func enqueueDue() -> Int64? {
        let now = clock.nowMs()
        if let drift, drift.dueMs <= now {
            self.drift = nil
            for (name, document) in desired where drift.kinds.contains(document.kind) {
                enqueue(name)
                if drift.kernel { suspects.insert(name) }
            }
        }
        var next = drift?.dueMs
        for (name, record) in records where !held.contains(record.kind) {
            guard let due = record.nextCheckMs else { continue }
            if due <= now { enqueue(name) } else { next = min(next ?? due, due) }
        }
        return next
    }

    /// The kernel announced link, address or route changes: goals of kinds that watch the kernel
    /// look again at once.
    public func kernelChanged() {
        for (name, document) in desired where kinds.handler(document.kind)?.watchesKernel == true { enqueue(name) }
    }

    func signal() {
        guard let waiter else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }

    /// Works until cancelled: passes over the queued goals and those due.
    public func run(calls: any ToolCalling) async {
        self.calls = calls
        while !Task.isCancelled {
            let next = enqueueDue()
            if queue.isEmpty {
                await waitForWork(untilMs: next)
                continue
            }
            await pass(takeQueue())
        }
    }

    /// Waits for a signal or until `untilMs` (epoch ms), whichever is first.
    func waitForWork(untilMs: Int64?) async {
        let id = nextWaiter
        nextWaiter += 1
        let clock = clock
        let timer = untilMs.map { deadline in
            Task { [weak self] in
                try? await clock.sleep(untilMs: deadline)
                await self?.timeout(id)
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled || !queue.isEmpty {
                    continuation.resume()
                } else {
                    waiter = (id, continuation)
                }
            }
        } onCancel: {
            Task { await self.timeout(id) }
        }
        timer?.cancel()
    }

    func timeout(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }

    /// One pass over `names`: the reads they need, once each, then each goal in turn.
    func pass(_ names: [String]) async {
        let names = names.filter { name in
            guard let kind = desired[name]?.kind ?? records[name]?.kind, held.contains(kind) else { return true }
            heldBack.insert(name)
            return false
        }
        passes += 1
        let claims = claimIndex()
        var reads: [CallRequest] = []
        var seen: Set<CallRequest> = []
        for name in names {
            guard let document = desired[name], let handler = kinds.handler(document.kind) else { continue }
            for read in handler.reads(goal(document)) where seen.insert(read).inserted { reads.append(read) }
        }
        var outputs: [CallRequest: Result<JSONValue, AiosError>] = [:]
        for read in reads {
            outputs[read] = await execute(read, subject: nil).map { $0.output ?? .null }
        }
        let observations = Observations(outputs)
        for name in names {
            await reconcile(name, observed: observations, claims: claims)
        }
        suspects.subtract(names)
    }

    /// The goal for `document`, its expiry resolved against its first sight.
    func goal(_ document: GoalDocument) -> Goal {
        let record = records[document.name]
        let firstSeen = record?.firstSeenMs ?? clock.nowMs()
        let applied = record?.appliedGeneration
        return Goal(
            document: document,
            expiresMs: document.expires.flatMap { try? GoalExpiry.absolute($0, firstSeenMs: firstSeen) },
            isNewGeneration: applied != nil && applied != document.generation && invalid[document.name] == nil,
            recheckKernel: suspects.contains(document.name))
    }

    /// Every live goal's claims, by key.
    func claimIndex() -> [String: [(name: String, value: String)]] {
        var index: [String: [(name: String, value: String)]] = [:]
        let now = clock.nowMs()
        for (name, document) in desired {
            guard let handler = kinds.handler(document.kind) else { continue }
            let goal = goal(document)
            if let expires = goal.expiresMs, expires <= now { continue }
            for claim in Set(handler.claims(goal)) { index[claim.key, default: []].append((name, claim.value)) }
        }
        return index
    }

    /// Runs one call for a goal through the pipeline.
    func execute(
        _ request: CallRequest, subject: String?, guardOptions: GuardOptions? = nil,
        id: String = UUID().uuidString.lowercased()
    ) async -> Result<CallOutcome, AiosError> {
        guard let calls else { return .failure(AiosError(.unavailable, "the goal reconciler is not running")) }
        return await calls.result(
            ToolCall(
                tool: request.tool, input: request.input, origin: .goal, guardOptions: guardOptions, subject: subject,
                id: id))
    }
}
