import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a control command failed.
public struct UnboundControlError: Error, Sendable, CustomStringConvertible {
    /// The command.
    public var command: String
    /// What unbound (or the socket) said.
    public var message: String
    public var description: String { "unbound-control \(command): \(message)" }
}

/// The unbound-control protocol spoken directly over unbound's unix control socket (no process
/// per command: `unbound-control` parses the whole configuration, blocklists included, first): `UBCT1 <command>\n`, then for the bulk
/// commands the input lines and a line holding only EOT, then the reply until the server closes.
public struct UnboundControl: Sendable {
    /// The control socket (`control-interface: /path`).
    public let socketPath: String

    /// A client for the server listening on `socketPath`.
    public init(socketPath: String) { self.socketPath = socketPath }

    /// Runs `command` (with `input` lines for `local_zones`, `local_zones_remove`, `local_datas`, …).
    /// Blocking: unbound answers at once, but bulk commands take time proportional to the input.
    /// - Returns: the reply text.
    /// - Throws: `UnboundControlError` when the socket cannot be reached or unbound says `error …`.
    public func run(_ command: String, input: [String]? = nil) throws -> String {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath)
        } catch {
            throw UnboundControlError(command: command, message: "cannot connect to \(socketPath): \(error)")
        }
        defer { close(fd) }
        var request = Array("UBCT1 \(command)\n".utf8)
        if let input {
            request.reserveCapacity(request.count + input.reduce(0) { $0 + $1.utf8.count + 1 } + 2)
            for line in input {
                request.append(contentsOf: line.utf8)
                request.append(10)
            }
            request.append(contentsOf: [4, 10])
        }
        do {
            try UnixSocket.writeAll(fd, request)
            var reply: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = try SystemCall.check("read") { read(fd, &chunk, chunk.count) }
                if count == 0 { break }
                reply.append(contentsOf: chunk[0..<count])
            }
            let text = String(decoding: reply, as: UTF8.self)
            if text.hasPrefix("error") {
                throw UnboundControlError(command: command, message: text.trimmingCharacters(in: .newlines))
            }
            return text
        } catch let error as UnboundControlError {
            throw error
        } catch {
            throw UnboundControlError(command: command, message: "\(error)")
        }
    }

    /// `stats_noreset` as numbers by key.
    public func statistics() throws -> [String: Double] {
        var out: [String: Double] = [:]
        for line in try run("stats_noreset").split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { out[String(parts[0])] = value }
        }
        return out
    }
}
