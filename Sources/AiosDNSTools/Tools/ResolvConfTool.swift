public import AiosCore
import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `dns.resolv_conf`: point the system at a resolver (the managed one, at boot) by writing
/// `resolv.conf` atomically. What was there before is the call's inverse (content, a symbolic
/// link, or nothing) and is kept once beside it as `PATH.aios-net.orig` for a person.
public struct ResolvConfTool: Tool {
    /// What to write: `servers` (and `search`), or an exact `content` / `link` to restore.
    public struct Input: Decodable, Sendable {
        public var path: String
        public var servers: [String]?
        public var search: [String]?
        public var content: String?
        public var link: String?
        public var absent: Bool?
    }

    /// The file afterwards.
    public struct Output: Codable, Sendable {
        public var path: String
        public var servers: [String]
        /// Where the content found before aios-net first wrote here is kept.
        public var original: String?
    }

    public static let descriptor = ToolDescriptor(
        name: "dns.resolv_conf",
        summary: "Point the system at a resolver: write resolv.conf atomically (the previous content is the undo)",
        effect: .change,
        inputSchema: .object(
            [
                "path": .string("The file (absolute; /etc/resolv.conf for the system)", maxLength: 4096),
                "servers": .array(of: .string("Name server address", maxLength: 64), "Name servers", maxItems: 3),
                "search": .array(of: .string("Search domain", maxLength: 253), "Search domains", maxItems: 6),
                "content": .string("Exact content to write (an undo)", maxLength: 65536),
                "link": .string("Make the file a symbolic link to this (an undo)", maxLength: 4096),
                "absent": .boolean("Remove the file (an undo of a first write)"),
            ], required: ["path"],
            examples: [["path": "/etc/resolv.conf", "servers": ["127.0.0.1"]]]))

    /// Creates the tool.
    public init() {}

    /// What `path` holds now.
    enum Current: Equatable {
        case absent
        case link(String)
        case file(String)
    }

    static func current(_ path: String) throws -> Current {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return .absent }
            throw AiosError(.failed, "cannot look at \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            return .link((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw AiosError(
                .invalidInput, "\(path) is not a regular file or a link", location: InputLocation(field: "input.path"))
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AiosError(.failed, "cannot read \(path)")
        }
        return .file(text)
    }

    /// The first line of every file this tool writes from `servers`.
    static let header = "# Written by aios-net (dns.resolv_conf); the previous content is its undo."

    /// The text for `servers` and `search`.
    static func text(servers: [String], search: [String]) -> String {
        var lines = [header]
        if !search.isEmpty { lines.append("search \(search.joined(separator: " "))") }
        lines += servers.map { "nameserver \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        guard input.path.hasPrefix("/"), !input.path.contains("\0"), !input.path.hasSuffix("/") else {
            throw AiosError(
                .invalidInput, "path must be an absolute file path", location: InputLocation(field: "input.path"))
        }
        let given = [input.servers != nil, input.content != nil, input.link != nil, input.absent == true]
        guard given.filter({ $0 }).count == 1 else {
            throw AiosError(
                .invalidInput, "give exactly one of servers, content, link or absent",
                location: InputLocation(field: "input.servers"))
        }
        for (index, server) in (input.servers ?? []).enumerated() where IPAddressText.parse(server) == nil {
            throw AiosError(
                .invalidInput, "\(server) is not an IP address",
                location: InputLocation(field: "input.servers[\(index)]"))
        }
        for (index, domain) in (input.search ?? []).enumerated()
        where domain.isEmpty || domain.contains(where: { $0.isWhitespace || $0 == "#" || $0 == ";" }) {
            throw AiosError(
                .invalidInput, "\(domain) is not a domain name",
                location: InputLocation(field: "input.search[\(index)]"))
        }
        let path = input.path
        let old = try Self.current(path)
        let new: Current =
            if let servers = input.servers {
                .file(Self.text(servers: servers, search: input.search ?? []))
            } else if let content = input.content {
                .file(content)
            } else if let link = input.link {
                .link(link)
            } else {
                .absent
            }
        let original = "\(path).aios-net.orig"
        // What was there before aios-net first wrote here is kept — not an undo, not its own text.
        let keepsOld: Bool =
            if input.servers != nil, case .file(let text) = old { !text.hasPrefix(Self.header) } else { false }
        let output = Output(
            path: path, servers: input.servers ?? [],
            original: FileManager.default.fileExists(atPath: original) || keepsOld ? original : nil)
        guard new != old else { return .unchanged(output) }
        let inverse: JSONValue =
            switch old {
            case .absent: ["path": .string(path), "absent": true]
            case .link(let target): ["path": .string(path), "link": .string(target)]
            case .file(let text): ["path": .string(path), "content": .string(text)]
            }
        let detail =
            switch new {
            case .absent: "removed"
            case .link(let target): "a link to \(target)"
            case .file: input.servers.map { "nameserver \($0.joined(separator: ", "))" } ?? "restored"
            }
        return .change(
            [Change("set", "resolv.conf \(path)", detail: detail)],
            inverse: CallRequest(tool: Self.descriptor.name, input: inverse)
        ) {
            if keepsOld, !FileManager.default.fileExists(atPath: original), case .file(let text) = old {
                try? AtomicFile.write(Array(text.utf8), to: original)
            }
            do {
                switch new {
                case .absent:
                    if unlink(path) != 0 && errno != ENOENT { throw SystemCallError("unlink \(path)", errno: errno) }
                case .link(let target):
                    let temporary = "\(path).aios-\(getpid())"
                    unlink(temporary)
                    guard symlink(target, temporary) == 0 else { throw SystemCallError("symlink", errno: errno) }
                    guard rename(temporary, path) == 0 else {
                        let code = errno
                        unlink(temporary)
                        throw SystemCallError("rename \(temporary)", errno: code)
                    }
                case .file(let text):
                    try AtomicFile.write(Array(text.utf8), to: path)
                }
            } catch {
                throw AiosError(.failed, "cannot write \(path): \(error)", cause: error)
            }
            return output
        }
    }
}
