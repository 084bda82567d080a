import AiosLinux
import ArgumentParser
import Foundation

/// `aios-net dhcp-hook`: what dhcpcd runs for every event of an interface aios-net manages (the
/// daemon passes it with `-c`, so dhcpcd's stock hooks — which rewrite /etc/resolv.conf — never
/// run). It sends the event's variables to the daemon as one datagram and exits 0 at once:
/// dhcpcd runs hooks synchronously, and a missing daemon must not stall it.
struct DHCPHookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhcp-hook", abstract: "Hand a dhcpcd event to the daemon (run by dhcpcd, not by people).",
        shouldDisplay: false)

    @Option(help: "The daemon's DHCP event socket.")
    var socket: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var event: [String: String] = [:]
        for (key, value) in environment
        where key.hasPrefix("new_") || key.hasPrefix("old_")
            || ["reason", "interface", "protocol", "ifcarrier", "pid", "ifmtu", "if_up", "if_down"].contains(key)
        {
            event[key] = value
        }
        let body = event.keys.sorted().map { "\(jsonString($0)):\(jsonString(event[$0]!))" }.joined(separator: ",")
        try? UnixDatagram.send(Array("{\(body)}".utf8), to: socket)
    }

    private func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
