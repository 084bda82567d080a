import Foundation

/// The supplementary groups of a running process, from `/proc/PID/status`.
public enum ProcessGroups {
    /// The process's groups (primary and supplementary); empty when it cannot be read.
    public static func of(pid: Int32) -> Set<UInt32> {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [] }
        var groups: Set<UInt32> = []
        for line in text.split(separator: "\n") where line.hasPrefix("Groups:") || line.hasPrefix("Gid:") {
            for field in line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst() {
                if let gid = UInt32(field) { groups.insert(gid) }
            }
        }
        return groups
    }

    /// The gid of a group name, or nil.
    public static func gid(named name: String) -> UInt32? {
        guard let text = try? String(contentsOfFile: "/etc/group", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, fields[0] == name { return UInt32(fields[2]) }
        }
        return UInt32(name)
    }
}
