public import AiosCore
import AiosStore
import Foundation

/// `goal.list`: every goal with its phase and message, and the files that were refused.
public struct GoalListTool: Tool {
    /// No input.
    public struct Input: Decodable, Sendable {}

    public static let descriptor = ToolDescriptor(
        name: "goal.list", summary: "List the goals with their phase (applied, failed, conflict, …) and refused files",
        effect: .read, inputSchema: .object([:], examples: [[:]]))

    let reconciler: GoalReconciler

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
        let reconciler = reconciler
        return .read {
            let records = await reconciler.allRecords()
            var byPhase: [String: Int] = [:]
            for record in records { byPhase[record.phase, default: 0] += 1 }
            let refused = await reconciler.refusedFiles()
            return [
                "goals": .array(
                    records.map { record in
                        var item: [String: JSONValue] = [
                            "name": .string(record.name), "kind": .string(record.kind), "phase": .string(record.phase),
                            "source": .string(record.source),
                            "message": .string(record.conditions.first?.message ?? ""),
                        ]
                        if let expires = record.expiresMs { item["expires_ms"] = .number(Double(expires)) }
                        return .object(item)
                    }),
                "counts": .object(byPhase.mapValues { .number(Double($0)) }),
                "refused_files": .object(refused.mapValues(JSONValue.string)),
            ]
        }
    }
}

/// `goal.status`: one goal's full status: phase, conditions, generations, what it owns, next check.
public struct GoalStatusTool: Tool {
    /// The goal's name.
    public struct Input: Decodable, Sendable {
        public var name: String
    }

    public static let descriptor = ToolDescriptor(
        name: "goal.status", summary: "One goal's status: phase, conditions, generation, what it owns, next check",
        effect: .read,
        inputSchema: .object(
            ["name": .string("The goal's name", minLength: 1, maxLength: 63)], required: ["name"],
            examples: [["name": "nginx-http"]]))

    let reconciler: GoalReconciler
    let store: Store

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
        guard let record = await reconciler.record(input.name) else {
            throw AiosError(
                .notFound, "no goal named \(input.name); `aios-net goals` lists them",
                location: InputLocation(field: "input.name"))
        }
        let store = store
        return .read { GoalStatusView(record: record, owned: try await store.goalResources(record.name)).json }
    }
}

/// The published schema of a goal file of one kind (for yaml-language-server), served by the
/// control socket's `goal.schema` (not a tool call: a tool's output is redacted by field name,
/// and a schema's field names — `private_key_ref` — are not secrets).
public enum GoalSchemas {
    /// The kinds and their summaries.
    public static func kinds(_ kinds: GoalKinds) -> JSONValue {
        .object(
            Dictionary(uniqueKeysWithValues: kinds.names.map { ($0, JSONValue.string(kinds.handler($0)!.summary)) }))
    }

    /// The schema of `kind`, or the kinds when nil.
    /// - Throws: `AiosError.notFound` naming the kinds when `kind` is not one.
    public static func answer(_ kind: String?, kinds: GoalKinds) throws -> JSONValue {
        guard let kind else { return Self.kinds(kinds) }
        guard kinds.handler(kind) != nil else {
            throw AiosError(
                .notFound, "no goal kind \(kind): one of \(kinds.names.joined(separator: ", "))",
                location: InputLocation(field: "kind"))
        }
        return document(kind, kinds: kinds)
    }

    /// The whole document's schema: kind, name, spec (the kind's), expires, labels.
    public static func document(_ kind: String, kinds: GoalKinds) -> JSONValue {
        let spec = kinds.schema(kind).document
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": .string("aios-net goal: \(kind)"),
            "description": .string(kinds.handler(kind)?.summary ?? ""),
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "name"],
            "properties": [
                "kind": ["const": .string(kind)],
                "name": [
                    "type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
                    "description": "Unique, DNS-label style",
                ],
                "spec": spec,
                "expires": [
                    "type": "string",
                    "description": "A duration from the goal's first sight (2h, 30m) or an RFC 3339 time",
                ],
                "labels": ["type": "object", "additionalProperties": ["type": "string"]],
            ],
        ]
    }
}

/// `goal.plan`: what a goal file would do, without doing it: each goal's tool calls and their
/// diffs (dry runs through the pipeline). An invalid file is an `invalid_input` error naming
/// file, line, column and field.
public struct GoalPlanTool: Tool {
    /// The file's text and its name (for errors).
    public struct Input: Decodable, Sendable {
        public var file: String
        public var text: String
    }

    public static let descriptor = ToolDescriptor(
        name: "goal.plan",
        summary: "Validate a goal file and show the tool calls and diff it would make (nothing applied)",
        effect: .read,
        inputSchema: .object(
            [
                "file": .string("The file's name, for errors", maxLength: 4096),
                "text": .string("The file's content (YAML)", maxLength: 1 << 20),
            ], required: ["file", "text"],
            examples: [
                [
                    "file": "web.yaml",
                    "text": "kind: FirewallRule\nname: web\nspec: {action: allow, port: 80}\n",
                ]
            ]))

    let reconciler: GoalReconciler

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<JSONValue> {
        let documents = try GoalFile.parse(input.text, file: input.file, kinds: reconciler.goalKinds)
        let reconciler = reconciler
        return .read { .array(await reconciler.dryRun(documents)) }
    }
}

extension GoalReconciler {
    /// Each document's calls and their diffs, as dry runs.
    func dryRun(_ documents: [GoalDocument]) async -> [JSONValue] {
        var results: [JSONValue] = []
        for document in documents {
            guard let handler = kinds.handler(document.kind) else { continue }
            let goal = goal(document)
            var outputs: [CallRequest: Result<JSONValue, AiosError>] = [:]
            for read in handler.reads(goal) {
                outputs[read] = await execute(read, subject: nil).map { $0.output ?? .null }
            }
            var item: [String: JSONValue] = ["name": .string(document.name), "kind": .string(document.kind)]
            do {
                let owned = try await store.goalResources(document.name)
                let step = try handler.reconcile(goal, observed: Observations(outputs), owned: owned)
                var calls: [JSONValue] = []
                for planned in step.calls {
                    var call: [String: JSONValue] = [
                        "tool": .string(planned.request.tool), "input": planned.request.input,
                    ]
                    switch await dryRunCall(planned.request, subject: goal.subject) {
                    case .success(let outcome): call["diff"] = .array(outcome.diff.map { .string($0.description) })
                    case .failure(let error): call["error"] = .string(error.description)
                    }
                    calls.append(.object(call))
                }
                item["calls"] = .array(calls)
                if let degraded = step.degraded { item["degraded"] = .string(degraded) }
            } catch {
                item["error"] = .string((error as? AiosError)?.description ?? "\(error)")
            }
            results.append(.object(item))
        }
        return results
    }

    func dryRunCall(_ request: CallRequest, subject: String) async -> Result<CallOutcome, AiosError> {
        guard let calls else { return .failure(AiosError(.unavailable, "the goal reconciler is not running")) }
        do {
            return .success(
                try await calls.execute(
                    ToolCall(tool: request.tool, input: request.input, origin: .goal, dryRun: true, subject: subject)))
        } catch {
            return .failure(error as? AiosError ?? AiosError(.failed, "\(error)"))
        }
    }
}
