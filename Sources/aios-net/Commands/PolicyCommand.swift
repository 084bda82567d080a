import AiosControl
import AiosCore
import AiosDaemon
import ArgumentParser
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check a policy file, or make the daemon reload its policy.",
        discussion: """
            A malformed policy is rejected with file, line and field; on reload the previous policy stays in force.

            Examples:
              aios-net policy check Policies/default.yaml
              aios-net policy reload
            """,
        subcommands: [Check.self, Reload.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Validate a policy file (no daemon needed).")
        @Argument(help: "The policy file.") var file: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let renderer = Renderer(json: json)
            try await renderer.run {
                let policy = try PolicyLoader.load(path: file)
                let value: JSONValue = [
                    "file": .string(file), "rules": .number(Double(policy.rules.count)), "ok": true,
                ]
                renderer.emit(value) {
                    "\(file): ok (\(policy.rules.count) rules, default \(policy.defaultDecision.rawValue))"
                }
            }
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload", abstract: "Make the daemon re-read its policy file.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let result = try client.client.send("policy.reload")
                renderer.emit(result) {
                    "policy reloaded from \(result["policy"]?.stringValue ?? "?"): \(result["rules"]?.intValue ?? 0) rules"
                }
            }
        }
    }
}
