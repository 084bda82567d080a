import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A managed section in a hosts file (seed 004): the lines between `# BEGIN aios-net` and
/// `# END aios-net` are aios-net's; every byte outside them is kept exactly. The file is replaced
/// atomically (temporary file + rename), so a crash leaves the old file or the new one.
enum HostsSection {
    static let begin = "# BEGIN aios-net"
    static let end = "# END aios-net"

    /// The file's content with the section holding `entries` (address, names). No entries removes
    /// the section.
    static func render(_ original: [UInt8], entries: [(address: String, names: [String])]) -> [UInt8] {
        var lines =
            original.isEmpty ? [] : original.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
        let trailingNewline = original.last == 10
        if trailingNewline { lines.removeLast() }
        let beginLine = Array(begin.utf8)
        let endLine = Array(end.utf8)
        let start = lines.firstIndex { trimmed($0) == beginLine }
        let stop = start.flatMap { s in lines[s...].firstIndex { trimmed($0) == endLine } }
        var section: [[UInt8]] = []
        if !entries.isEmpty {
            section.append(beginLine)
            section.append(
                Array("# Managed by aios-net (dns.records_set); edits between these lines are replaced.".utf8))
            for entry in entries {
                section.append(Array("\(entry.address)\t\(entry.names.joined(separator: " "))".utf8))
            }
            section.append(endLine)
        }
        var endsWithNewline = trailingNewline
        if let start, let stop {
            lines.replaceSubrange(start...stop, with: section)
        } else if section.isEmpty {
            return original
        } else {
            lines += section
            endsWithNewline = true
        }
        guard !lines.isEmpty else { return [] }
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index > 0 { out.append(10) }
            out += line
        }
        if endsWithNewline { out.append(10) }
        return out
    }

    /// Rewrites `path`'s section (creating the file when missing), keeping its mode.
    /// - Parameter beforeRename: passed to `AtomicFile` (tests die there).
    static func write(_ path: String, entries: [(address: String, names: [String])], beforeRename: (() -> Void)? = nil)
        throws
    {
        let original = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        let rendered = render(original, entries: entries)
        guard rendered != original else { return }
        var info = stat()
        let mode: UInt32 = stat(path, &info) == 0 ? UInt32(info.st_mode & 0o7777) : 0o644
        try AtomicFile.write(rendered, to: path, mode: mode, beforeRename: beforeRename)
    }

    private static func trimmed(_ line: [UInt8]) -> [UInt8] {
        var slice = line[...]
        while let last = slice.last, last == 32 || last == 9 || last == 13 { slice = slice.dropLast() }
        while let first = slice.first, first == 32 || first == 9 { slice = slice.dropFirst() }
        return Array(slice)
    }
}
