import AiosControl
import AiosCore
import ArgumentParser
import Foundation

/// Runs a `goal.*` read tool on the daemon and returns its output.
private func goalTool(_ client: ControlClient, _ tool: String, _ input: JSONValue = [:]) throws -> JSONValue {
    let result = try client.send("call", try JSONValue(encoding: CallParams(tool: tool, input: input)))
    return try result.decode(as: CallOutcome.self).output ?? .null
}

struct GoalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "goals",
        abstract: "List the goals with their phase, and goal files that were refused.",
        discussion: """
            Goals are YAML files in the daemon's watch directory (--goals-dir, default /etc/aios-net/goals.d).

            Examples:
              aios-net goals
              aios-net goals --json
            """)
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let renderer = client.renderer
        try await renderer.run {
            let output = try goalTool(client.client, "goal.list")
            renderer.emit(output) {
                var lines: [String] = []
                let goals = output["goals"]?.arrayValue ?? []
                if goals.isEmpty { lines.append("no goals") }
                for goal in goals {
                    let name = (goal["name"]?.stringValue ?? "").padding(toLength: 24, withPad: " ", startingAt: 0)
                    let kind = (goal["kind"]?.stringValue ?? "").padding(toLength: 16, withPad: " ", startingAt: 0)
                    let phase = (goal["phase"]?.stringValue ?? "").padding(toLength: 10, withPad: " ", startingAt: 0)
                    lines.append("\(name) \(kind) \(phase) \(goal["message"]?.stringValue ?? "")")
                }
                for (file, error) in (output["refused_files"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    lines.append("refused \(file): \(error.stringValue ?? "")")
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

struct GoalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "goal",
        abstract: "One goal's status, a goal file's plan, a kind's schema.",
        discussion: """
            Examples:
              aios-net goal status nginx-http
              aios-net goal plan Examples/goals/firewall-rule.yaml
              aios-net goal schema FirewallRule > firewall-rule.schema.json
              aios-net goal schema
            """,
        subcommands: [Status.self, Plan.self, Schema.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show a goal's phase, conditions, what it owns and its next check.")
        @Argument(help: "The goal's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let output = try goalTool(client.client, "goal.status", ["name": .string(name)])
                renderer.emit(output) {
                    var lines = [
                        "\(name): \(output["phase"]?.stringValue ?? "?") (\(output["kind"]?.stringValue ?? ""), from \(output["source"]?.stringValue ?? ""))",
                        "  \(output["message"]?.stringValue ?? "")",
                        "  generation \(output["observed_generation"]?.stringValue ?? "")"
                            + (output["applied_generation"]?.stringValue.map { ", applied \($0)" } ?? ""),
                    ]
                    if let expires = output["expires_ms"]?.intValue {
                        lines.append("  expires \(Renderer.time(Int64(expires)))")
                    }
                    if let next = output["next_check_ms"]?.intValue {
                        lines.append("  next check \(Renderer.time(Int64(next)))")
                    }
                    for item in output["owns"]?.arrayValue ?? [] {
                        lines.append(
                            "  owns \(item["kind"]?.stringValue ?? "") \(item["id"]?.stringValue ?? "")"
                                + (item["detail"]?.stringValue.map { " (\($0))" } ?? ""))
                    }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Validate a goal file and print the tool calls and diff it would make (nothing is applied).",
            discussion: "Exit 65 with file:line:column and the field when the file is invalid.")
        @Argument(help: "The goal file (YAML).") var file: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw AiosError(.notFound, "cannot read \(file): \(error.localizedDescription)")
                }
                let output = try goalTool(client.client, "goal.plan", ["file": .string(file), "text": .string(text)])
                renderer.emit(output) {
                    (output.arrayValue ?? []).map { goal in
                        var lines = ["\(goal["name"]?.stringValue ?? "") (\(goal["kind"]?.stringValue ?? ""))"]
                        if let error = goal["error"]?.stringValue { lines.append("  error: \(error)") }
                        let calls = goal["calls"]?.arrayValue ?? []
                        if calls.isEmpty, goal["error"] == nil { lines.append("  nothing to do: in force") }
                        for call in calls {
                            lines.append("  \(call["tool"]?.stringValue ?? "") \(call["input"]?.jsonText ?? "{}")")
                            for change in call["diff"]?.arrayValue ?? [] {
                                lines.append("    \(change.stringValue ?? "")")
                            }
                            if let error = call["error"]?.stringValue { lines.append("    error: \(error)") }
                        }
                        return lines.joined(separator: "\n")
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Schema: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema", abstract: "Print the JSON Schema of a goal kind (no kind: list the kinds).")
        @Argument(help: "The kind (FirewallRule, DNSRecords, …).") var kind: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let input: JSONValue = kind.map { ["kind": .string($0)] } ?? [:]
                let output = try client.client.send("goal.schema", input)
                if kind != nil {
                    print(output.prettyText)
                } else {
                    renderer.emit(output) {
                        (output.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                            "\($0.key.padding(toLength: 18, withPad: " ", startingAt: 0)) \($0.value.stringValue ?? "")"
                        }.joined(separator: "\n")
                    }
                }
            }
        }
    }
}
