public import AiosDNSTools
import Foundation

/// A resolver in memory, for unit tests of what the blocked zones send: the zones it holds, as
/// unbound would after each `local_zones` (add, or change the type of) and `local_zones_remove`
/// command; a replacement reads the include file as a new unbound would. Real unbound is tested
/// in namespaces.
public actor FakeResolverControl: ResolverControl {
    /// Zone (no trailing dot) → type.
    public private(set) var zones: [String: String] = [:]
    /// Control commands received, in order, with their input's line count.
    public private(set) var commands: [(command: String, lines: Int)] = []
    /// Replacements done.
    public private(set) var replacements = 0
    private let include: String
    private var running: Bool

    /// A resolver whose include file is `include`, running or not.
    public init(include: String, running: Bool = true) {
        self.include = include
        self.running = running
    }

    public var runningPID: Int32? { running ? 4242 : nil }

    public func run(_ command: String, input: [String]?) async throws -> String {
        commands.append((command, input?.count ?? 0))
        switch command {
        case "local_zones":
            for line in input ?? [] {
                let parts = line.split(separator: " ")
                guard parts.count == 2 else { throw FakeResolverError.badLine(line) }
                zones[String(parts[0])] = String(parts[1])
            }
            return "added \(input?.count ?? 0) zones\n"
        case "local_zones_remove":
            for line in input ?? [] { zones[line] = nil }
            return "removed \(input?.count ?? 0) zones\n"
        case "list_local_zones":
            return zones.map { "\($0.key). \($0.value)\n" }.joined()
        default:
            return "ok\n"
        }
    }

    public func replace(_ settings: DNSSettings) async throws -> Bool {
        guard running else { return false }
        replacements += 1
        zones = Self.read(include)
        return true
    }

    /// The zones an include file holds (`local-zone: "name." type` lines).
    public static func read(_ path: String) -> [String: String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("local-zone: \"") {
            let parts = line.dropFirst(13).split(separator: " ")
            guard parts.count == 2 else { continue }
            out[String(parts[0].dropLast(2))] = String(parts[1])
        }
        return out
    }
}

/// A control command the fake could not read.
public enum FakeResolverError: Error {
    case badLine(String)
}
