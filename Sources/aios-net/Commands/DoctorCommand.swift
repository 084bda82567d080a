import AiosCore
import AiosDaemon
import ArgumentParser
import Foundation

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the database, the daemon and the programs aios-net drives; works without the daemon.",
        discussion: """
            Each check prints ok, warn or FAIL, and a fix for anything not ok. Exit status 1 when any check fails.

            Examples:
              aios-net doctor
              aios-net doctor --data-dir /tmp/aios --json
            """)

    @OptionGroup var dataDirectory: DataDirectoryOption
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let checks = Doctor.run(dataDirectory: dataDirectory.path, socketPath: client.socketPath)
        let value = try JSONValue(encoding: ["checks": checks])
        client.renderer.emit(value) { Renderer.doctor(checks) }
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(ExitCodes.failed) }
    }
}
