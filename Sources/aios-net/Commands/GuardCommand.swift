import AiosControl
import AiosCore
import ArgumentParser
import Foundation

struct GuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "List guarded changes, or confirm one so it is kept.",
        discussion: """
            A disruptive call without a probe waits for confirmation; unconfirmed, it rolls back at its deadline.

            Examples:
              aios-net guard list
              aios-net guard confirm 3f2c…
            """,
        subcommands: [List.self, Confirm.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Show recent guards and their state.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let result = try client.client.send("guard.list")
                let guards = try result.decode(as: [GuardRecord].self)
                renderer.emit(result) {
                    guards.isEmpty
                        ? "no guards"
                        : guards.map {
                            "\($0.id)  \($0.state.rawValue)  \($0.tool)  deadline \(Renderer.time($0.deadlineMs))"
                                + ($0.note.map { "\n    \($0)" } ?? "")
                        }.joined(separator: "\n")
                }
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "confirm", abstract: "Keep a pending guarded change.")
        @Argument(help: "The guard's id.") var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let renderer = client.renderer
            try await renderer.run {
                let result = try client.client.send("guard.confirm", ["id": .string(id)])
                renderer.emit(result) { "guard \(id): confirmed; the change stays" }
            }
        }
    }
}
