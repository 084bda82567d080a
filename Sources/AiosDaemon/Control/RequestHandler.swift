import AiosControl
import AiosCore
import AiosGoals
import AiosStore
import Foundation
import Logging

/// Answers control-socket requests: each method maps to the orchestrator or the store.
struct RequestHandler: Sendable {
    let orchestrator: Orchestrator
    let store: Store
    let options: DaemonOptions
    let startedMs: Int64
    /// Opens once the start's firewall restore and check have run: `firewall.*` calls wait for it.
    var firewallReady = AsyncGate(open: true)
    /// The goal kinds, for `goal.schema` (nil without goals).
    var goalKinds: GoalKinds?
    /// Boot (`aios-net boot`); nil without goals.
    var boot: DaemonBoot?
    let logger: Logger

    /// The answer to `request`; work a call leaves for afterwards goes to `deferring` (started by
    /// the caller once the answer is written).
    func handle(
        _ request: ControlRequest, progress: @escaping @Sendable (CallProgress) -> Void = { _ in },
        deferring: DeferredWork? = nil
    ) async -> ControlResponse {
        do {
            return .success(try await answer(request, progress: progress, deferring: deferring))
        } catch {
            let failure = (error as? AiosError) ?? AiosError(.failed, "\(error)")
            return .failure(
                AiosError(failure.code, orchestrator.redactor.redact(failure.message), location: failure.location))
        }
    }

    private func answer(
        _ request: ControlRequest, progress: @escaping @Sendable (CallProgress) -> Void, deferring: DeferredWork?
    ) async throws -> JSONValue {
        switch request.method {
        case "status":
            return [
                "pid": .number(Double(getpid())), "started_ms": .number(Double(startedMs)),
                "data_dir": .string(options.dataDirectory), "socket": .string(options.socketPath),
                "policy": .string(options.policyPath ?? "built-in default"),
                "tools": .number(Double(orchestrator.registry.descriptors.count)),
            ]
        case "tools":
            return try JSONValue(encoding: orchestrator.registry.descriptors)
        case "describe":
            let name = try params(request, as: NameParams.self).tool
            guard let descriptor = orchestrator.registry.descriptor(named: name) else {
                throw AiosError(.notFound, "no tool named \(name); `aios-net tools` lists the tools")
            }
            return try JSONValue(encoding: descriptor)
        case "call":
            let call = try params(request, as: CallParams.self)
            if call.tool.hasPrefix("firewall.") { await firewallReady.wait() }
            let outcome = try await orchestrator.execute(
                ToolCall(
                    tool: call.tool, input: call.input ?? [:], origin: .user, confirmed: call.yes, dryRun: call.dryRun,
                    guardOptions: call.guardOptions, rawInput: call.inputText), progress: progress,
                deferring: deferring)
            return try JSONValue(encoding: outcome)
        case "goal.schema":
            guard let goalKinds else { throw AiosError(.unavailable, "this daemon runs without goals") }
            return try GoalSchemas.answer(request.params["kind"]?.stringValue, kinds: goalKinds)
        case "boot":
            guard let boot else { throw AiosError(.unavailable, "this daemon runs without goals") }
            let given = try params(request, as: BootParams.self)
            let document = try await boot.document(text: given.goal, source: given.source)
            let resolvConf = given.resolvConf ?? options.resolvConf
            let report = await boot.run(
                document, resolvConf: resolvConf == "off" ? nil : resolvConf, timeoutMs: given.timeoutMs ?? 30_000
            ) { line in progress(CallProgress(stage: line, done: 0, total: nil)) }
            return try JSONValue(encoding: report)
        case "events":
            let query = try params(request, as: AuditQuery.self)
            return try JSONValue(encoding: try await store.events(query))
        case "guard.list":
            return try JSONValue(encoding: try await store.recentGuards(limit: 50))
        case "guard.confirm":
            let id = try params(request, as: IDParams.self).id
            return try JSONValue(encoding: try await orchestrator.confirmGuard(id: id, by: .user))
        case "policy.reload":
            return try await reloadPolicy()
        default:
            throw AiosError(.invalidInput, "unknown control method \(request.method)")
        }
    }

    private func reloadPolicy() async throws -> JSONValue {
        let now = SystemClock().nowMs()
        do {
            let policy = try PolicyLoader.load(path: options.policyPath)
            orchestrator.policies.replace(with: policy)
            try await store.record(
                AuditEvent(
                    timestampMs: now, kind: "policy.reloaded", origin: "user",
                    reason: options.policyPath ?? "built-in default",
                    result: "applied", detail: "\(policy.rules.count) rules"))
            logger.info("policy reloaded from \(options.policyPath ?? "built-in default"): \(policy.rules.count) rules")
            return [
                "policy": .string(options.policyPath ?? "built-in default"),
                "rules": .number(Double(policy.rules.count)),
            ]
        } catch let error as AiosError {
            try? await store.record(
                AuditEvent(
                    timestampMs: now, kind: "policy.rejected", origin: "user", reason: options.policyPath,
                    result: "error",
                    errorCode: error.code.description, errorMessage: error.description,
                    detail: "the previous policy stays in force"))
            throw AiosError(
                error.code, "\(error.message) (the previous policy stays in force)", location: error.location)
        }
    }

    private func params<T: Decodable>(_ request: ControlRequest, as type: T.Type) throws -> T {
        do {
            return try request.params.decode(as: T.self)
        } catch {
            throw DecodingProblem.error(from: error, root: "params")
        }
    }

    private struct NameParams: Decodable { var tool: String }
    private struct IDParams: Decodable { var id: String }
    private struct BootParams: Decodable {
        var goal: String?
        var source: String?
        var resolvConf: String?
        var timeoutMs: Int64?
        enum CodingKeys: String, CodingKey {
            case goal, source
            case resolvConf = "resolv_conf", timeoutMs = "timeout_ms"
        }
    }
}
