import AiosControl
import AiosCore
import ArgumentParser
import Foundation

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the audit trail (newest last).",
        discussion: """
            Every call, refusal, guard outcome and policy change is one event.

            Examples:
              aios-net events
              aios-net events --tool net.interfaces --limit 5
              aios-net events --origin user --since 2h --json
            """)

    @Option(help: "Only this tool.") var tool: String?
    @Option(help: "Only this origin (boot, goal, llm, user, guard, rollback).") var origin: String?
    @Option(help: "Only events newer than this, e.g. 30m, 2h, 7d.") var since: String?
    @Option(help: "At most this many events.") var limit: Int = 50
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let renderer = client.renderer
        try await renderer.run {
            guard limit > 0 else {
                throw AiosError(.invalidInput, "--limit must be at least 1", location: InputLocation(field: "--limit"))
            }
            let sinceMs = try since.map { SystemClock().nowMs() - (try DurationText.milliseconds($0)) }
            let query = AuditQuery(tool: tool, origin: origin, sinceMs: sinceMs, limit: limit)
            let result = try client.client.send("events", try JSONValue(encoding: query))
            let events = try result.decode(as: [AuditEvent].self)
            renderer.emit(result) { Renderer.events(events) }
        }
    }
}
