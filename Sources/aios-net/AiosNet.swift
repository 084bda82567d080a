import AiosControl
import ArgumentParser
import Foundation

/// `aios-net`: the CLI. Parses arguments, talks to the daemon (or runs it), renders the answer.
@main
struct AiosNet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aios-net",
        abstract: "An agent-driven network controller for Linux: typed, policy-gated, audited tool calls.",
        discussion: """
            Every change is a tool call that passes one pipeline: validate, policy, plan, apply, verify, audit.
            Changes that can cut connectivity run under a guard and roll back by themselves.

            Examples:
              aios-net daemon --data-dir /var/lib/aios-net
              aios-net tools
              aios-net call net.interfaces
              aios-net call net.routes '{"family": "inet6"}' --json
              aios-net events --since 1h
              aios-net goals
              aios-net doctor

            Environment: AIOS_NET_SOCKET (control socket), AIOS_NET_DATA_DIR (data directory).
            Exit codes: 0 ok, 1 failed, 64 usage, 65 invalid input, 66 not found, 69 daemon unreachable,
            75 needs confirmation (--yes), 77 denied.
            """,
        subcommands: [
            DaemonCommand.self, CallCommand.self, ToolsCommand.self, EventsCommand.self, DoctorCommand.self,
            GuardCommand.self, PolicyCommand.self, GoalsCommand.self, GoalCommand.self, BootCommand.self,
            DHCPHookCommand.self,
        ])
}

/// Options every client command shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket (default: $AIOS_NET_SOCKET or /run/aios-net/control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print JSON for programs instead of text.")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment[ControlDefaults.socketVariable] ?? ControlDefaults.socketPath
    }

    var client: ControlClient { ControlClient(socketPath: socketPath) }
    var renderer: Renderer { Renderer(json: json) }
}

/// The data directory option.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $AIOS_NET_DATA_DIR or /var/lib/aios-net).")
    var dataDirectory: String?

    var path: String {
        dataDirectory ?? ProcessInfo.processInfo.environment[ControlDefaults.dataDirectoryVariable]
            ?? ControlDefaults.dataDirectory
    }
}
