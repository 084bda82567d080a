import AiosControl
import AiosCore
import ArgumentParser
import Foundation

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List the tools the daemon offers.",
        discussion: """
            Examples:
              aios-net tools
              aios-net tools --json
              aios-net tools describe net.routes
            """,
        subcommands: [List.self, Describe.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List tools with effect and summary.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let result = try client.client.send("tools")
                renderer.emit(result) {
                    let tools = result.arrayValue ?? []
                    // As wide as the longest name: a fixed width cut `firewall.sandbox_attach`.
                    let width = tools.map { $0["name"]?.stringValue?.count ?? 0 }.max() ?? 0
                    return tools.map { tool in
                        let name = (tool["name"]?.stringValue ?? "").padding(
                            toLength: width, withPad: " ", startingAt: 0)
                        let effect = (tool["effect"]?.stringValue ?? "").padding(
                            toLength: 11, withPad: " ", startingAt: 0)
                        return "\(name) \(effect) \(tool["summary"]?.stringValue ?? "")"
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "describe", abstract: "Show a tool's summary, effect, input schema and examples.",
            discussion: "Example:\n  aios-net tools describe net.interfaces")
        @Argument(help: "The tool's name.") var tool: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let result = try client.client.send("describe", ["tool": .string(tool)])
                renderer.emit(result) {
                    let schema = result["input_schema"] ?? .null
                    var lines = [
                        "\(result["name"]?.stringValue ?? tool): \(result["summary"]?.stringValue ?? "")",
                        "effect: \(result["effect"]?.stringValue ?? "?")",
                        "input schema:", schema.prettyText,
                    ]
                    for example in schema["examples"]?.arrayValue ?? [] {
                        lines.append("example: aios-net call \(tool) '\(example.jsonText)'")
                    }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }
}
