import AiosCore
import Foundation
import Logging

/// `lab.*`: tools with a harmless, observable effect (a flag file in the data directory), for the
/// lab demo and for tests of the pipeline in a real daemon process (guard rollback after SIGKILL,
/// secret redaction). Registered only with `aios-net daemon --lab-tools`.
struct LabModule: ToolModule {
    static let namespace = "lab"
    let directory: String

    func register(in registry: inout ToolRegistry) throws {
        let flag = LabFlag(path: (directory as NSString).appendingPathComponent("lab-flag"))
        try registry.add(LabFlagSetTool(flag: flag))
        try registry.add(LabFlagCheckTool(flag: flag))
        try registry.add(LabSecretTool())
    }
}

/// The flag file: its content is the lab's "network state".
struct LabFlag: Sendable {
    let path: String

    func read() -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func write(_ value: String) throws {
        do {
            try value.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw AiosError(.failed, "cannot write the lab flag \(path): \(error.localizedDescription)", cause: error)
        }
    }
}

/// `lab.flag_set`: a disruptive change (guarded) whose inverse restores the previous flag.
struct LabFlagSetTool: Tool {
    struct Input: Decodable, Sendable { var value: String }
    struct Output: Codable, Sendable {
        var value: String
        var previous: String
    }

    static let descriptor = ToolDescriptor(
        name: "lab.flag_set", summary: "Set the lab flag (a stand-in for a change that can cut connectivity)",
        effect: .disruptive,
        inputSchema: .object(
            ["value": .string("New flag value", maxLength: 256)], required: ["value"], examples: [["value": "up"]]))

    let flag: LabFlag

    func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let current = flag.read()
        if current == input.value { return .unchanged(Output(value: current, previous: current)) }
        return .change(
            [
                Change(
                    "set", "lab flag",
                    detail:
                        "\(current.isEmpty ? "(unset)" : current) → \(input.value.isEmpty ? "(unset)" : input.value)")
            ],
            inverse: CallRequest(tool: Self.descriptor.name, input: ["value": .string(current)])
        ) {
            try flag.write(input.value)
            return Output(value: input.value, previous: current)
        }
    }
}

/// `lab.flag_check`: a read tool usable as a guard probe; fails unless the flag equals `expect`.
struct LabFlagCheckTool: Tool {
    struct Input: Decodable, Sendable { var expect: String }
    struct Output: Codable, Sendable { var value: String }

    static let descriptor = ToolDescriptor(
        name: "lab.flag_check", summary: "Succeed only when the lab flag equals a value (a stand-in probe)",
        effect: .read,
        inputSchema: .object(
            ["expect": .string("Expected flag value")], required: ["expect"], examples: [["expect": "up"]]))

    let flag: LabFlag

    func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read {
            let value = flag.read()
            guard value == input.expect else {
                throw AiosError(.failed, "lab flag is \"\(value)\", expected \"\(input.expect)\"")
            }
            return Output(value: value)
        }
    }
}

/// `lab.secret_use`: takes a secret like a real tool would (an API key) and reports only its length.
struct LabSecretTool: Tool {
    struct Input: Decodable, Sendable {
        var label: String
        var apiKey: Secret<String>
        enum CodingKeys: String, CodingKey {
            case label
            case apiKey = "api_key"
        }
    }
    struct Output: Codable, Sendable {
        var label: String
        var keyLength: Int
        enum CodingKeys: String, CodingKey {
            case label
            case keyLength = "key_length"
        }
    }

    static let descriptor = ToolDescriptor(
        name: "lab.secret_use", summary: "Accept an API key and report its length (for the secret-redaction tests)",
        effect: .change,
        inputSchema: .object(
            ["label": .string("A name"), "api_key": .string("The key", minLength: 8, secret: true)],
            required: ["label", "api_key"], examples: [["label": "demo", "api_key": "sk-example-000000"]]))

    func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        context.logger.info("using key \(input.apiKey) for \(input.label)")
        return .change([Change("set", "lab key \(input.label)")]) {
            Output(label: input.label, keyLength: input.apiKey.reveal().count)
        }
    }
}
