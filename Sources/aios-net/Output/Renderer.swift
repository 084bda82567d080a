import AiosControl
import AiosCore
import AiosDaemon
import ArgumentParser
import Foundation

/// The one output renderer: `--json` for programs, text for people, errors in both.
struct Renderer {
    let json: Bool

    /// Prints `value` as JSON, or `text()` for people.
    func emit(_ value: JSONValue, text: () -> String) {
        print(json ? value.prettyText : text())
    }

    /// Prints an error and returns the exit code to use.
    func fail(_ error: AiosError) -> ExitCode {
        if json {
            let value = (try? JSONValue(encoding: ["error": WireError(error)])) ?? .null
            print(value.prettyText)
        } else {
            var line = "aios-net: "
            if let location = error.location, !location.description.isEmpty { line += "\(location): " }
            line += error.message
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        return ExitCode(ExitCodes.code(for: error))
    }

    /// Runs `body`, turning any error into a printed failure and an exit code.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as AiosError {
            throw fail(error)
        } catch {
            throw fail(AiosError(.failed, "\(error)"))
        }
    }

    static func time(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func outcome(_ outcome: CallOutcome) -> String {
        var lines: [String] = []
        let status = outcome.status.rawValue.replacingOccurrences(of: "_", with: " ")
        lines.append("\(outcome.tool): \(status) (\(outcome.decision.verdict.rawValue): \(outcome.decision.reason))")
        if outcome.status == .unchanged { lines.append("  nothing to change: the desired state already holds") }
        for change in outcome.diff { lines.append("  \(change)") }
        if let guardState = outcome.guardState {
            switch guardState.state {
            case .pending:
                lines.append(
                    "  guard \(guardState.id): waiting for confirmation until \(time(guardState.deadlineMs)); run `aios-net guard confirm \(guardState.id)` or it rolls back"
                )
            default:
                lines.append("  guard \(guardState.id): \(guardState.state.rawValue)")
            }
        }
        if let output = outcome.output, outcome.status != .planned {
            lines.append(output.prettyText)
        }
        return lines.joined(separator: "\n")
    }

    static func events(_ events: [AuditEvent]) -> String {
        if events.isEmpty { return "no events" }
        return events.reversed().map { event in
            var line = "\(time(event.timestampMs))  \(event.kind)  \(event.origin ?? "-")  \(event.tool ?? "-")"
            if let decision = event.decision { line += "  \(decision)" }
            line += "  \(event.result)"
            if let subject = event.subject { line += "  [\(subject)]" }
            if let micros = event.durationMicros { line += String(format: "  %.2fms", Double(micros) / 1000) }
            if let message = event.errorMessage { line += "\n    error (\(event.errorCode ?? "?")): \(message)" }
            if let reason = event.reason, event.kind != "call" || event.result == "error" {
                line += "\n    reason: \(reason)"
            }
            if let detail = event.detail { line += "\n    " + detail.replacingOccurrences(of: "\n", with: "\n    ") }
            return line
        }.joined(separator: "\n")
    }

    static func doctor(_ checks: [DoctorCheck]) -> String {
        checks.map { check in
            let mark = check.status == .ok ? "ok  " : check.status == .warn ? "warn" : "FAIL"
            var line = "\(mark)  \(check.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(check.detail)"
            if let hint = check.hint { line += "\n      fix: \(hint)" }
            return line
        }.joined(separator: "\n")
    }
}
