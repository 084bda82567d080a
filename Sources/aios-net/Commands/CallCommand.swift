import AiosControl
import AiosCore
import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run one tool through the pipeline (origin: user).",
        discussion: """
            INPUT is the tool's JSON input (default {}); `-` reads it from standard input.
            `aios-net tools describe TOOL` shows the input schema with an example.

            Examples:
              aios-net call net.interfaces
              aios-net call net.interfaces '{"name": "eth0"}' --json
              echo '{"family": "inet"}' | aios-net call net.routes -
              aios-net call lab.flag_set '{"value": "B"}' --dry-run
              aios-net call lab.flag_set '{"value": "B"}' --yes --probe lab.flag_check --probe-input '{"expect": "B"}' --window 10s
            """)

    @Argument(help: "The tool's name, e.g. net.interfaces.")
    var tool: String

    @Argument(help: "JSON input, or - to read it from standard input.")
    var input: String?

    @Flag(name: .customLong("dry-run"), help: "Show what would change; apply nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Confirm a call the policy wants confirmed (e.g. disruptive changes).")
    var yes = false

    @Option(help: "Guard probe: a read tool that must succeed within the window, else the change rolls back.")
    var probe: String?

    @Option(name: .customLong("probe-input"), help: "JSON input for --probe (default {}).")
    var probeInput: String?

    @Option(help: "Guard window for a disruptive call, e.g. 30s or 2m (default from the policy).")
    var window: String?

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let renderer = client.renderer
        try await renderer.run {
            var text = input ?? "{}"
            if text == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            }
            var guardOptions: GuardOptions?
            if probe != nil || window != nil {
                guardOptions = GuardOptions(
                    probe: try probe.map { CallRequest(tool: $0, input: try JSONValue(parsing: probeInput ?? "{}")) },
                    windowMs: try window.map {
                        try DurationText.milliseconds($0, in: GuardDefaults.windowRange, field: "--window")
                    })
            }
            let params = CallParams(tool: tool, inputText: text, dryRun: dryRun, yes: yes, guardOptions: guardOptions)
            // Progress of long calls (a million-line list) goes to a terminal's standard error.
            let interactive = isatty(2) == 1
            let result = try client.client.send("call", try JSONValue(encoding: params)) { report in
                guard interactive else { return }
                let share = report.total.map { $0 > 0 ? " \(report.done * 100 / $0)%" : "" } ?? " \(report.done)"
                FileHandle.standardError.write(Data("\r\(report.stage):\(share)\u{1B}[K".utf8))
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let outcome = try result.decode(as: CallOutcome.self)
            renderer.emit(result) { Renderer.outcome(outcome) }
        }
    }
}
