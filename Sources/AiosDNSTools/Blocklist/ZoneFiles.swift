import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The two kinds of zone file: a list's zones (one name per line) and the include file unbound
/// reads at start (`local-zone: "name." type` per line). Both are read and patched as bytes: a
/// pass over a million separate name strings touches a million allocations; a pass over the same
/// names as one buffer reads memory in order.
enum ZoneFiles {
    /// The include file's first line.
    static let includeHeader = "# Written by aios-net: blocked zones (change them with dns.* tools)\n"
    private static let includePrefix = Array("local-zone: \"".utf8)

    /// One zone per line.
    static func readZones(_ path: String) -> [String] {
        var out: [String] = []
        forEachLine(path) { line in out.append(String(decoding: line, as: UTF8.self)) }
        return out
    }

    /// Calls `body` with each non-empty line of the file at `path`, on its bytes.
    static func forEachLine(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard let bytes = read(path) else { return }
        forEachLine(bytes, body)
    }

    private static func forEachLine(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for index in 0...buffer.count where index == buffer.count || buffer[index] == 10 {
                if index > start { body(UnsafeBufferPointer(rebasing: buffer[start..<index])) }
                start = index + 1
            }
        }
    }

    private static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Writes `zones` one per line (atomically).
    static func writeZones(_ zones: some Collection<String>, to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(zones.count * 24)
        for zone in zones { append(zone, to: &bytes) }
        try AtomicFile.write(bytes, to: path)
    }

    /// Rewrites the list zone file at `path` without the zones in `removing` and with `adding`.
    static func patchZones(_ path: String, removing: Set<String>, adding: [String]) throws {
        let old = read(path) ?? []
        let drop = Set(removing.map { ListIndex.hash($0) })
        var bytes: [UInt8] = []
        bytes.reserveCapacity(old.count + adding.count * 24)
        forEachLine(old) { line in
            if drop.contains(ListIndex.hash(line)), removing.contains(String(decoding: line, as: UTF8.self)) { return }
            bytes.append(contentsOf: line)
            bytes.append(10)
        }
        for zone in adding { append(zone, to: &bytes) }
        try AtomicFile.write(bytes, to: path)
    }

    /// The include file's bytes for `zones` (zone → type).
    static func include(_ zones: [String: String]) -> [UInt8] {
        var bytes = Array(includeHeader.utf8)
        bytes.reserveCapacity(zones.count * 48)
        for (zone, type) in zones { appendInclude(zone, type, to: &bytes) }
        return bytes
    }

    /// The include file at `path` without lines for the zones in `dropping`, and with a line for
    /// each of `adding` (zone, type).
    static func patchedInclude(_ path: String, dropping: Set<String>, adding: [(String, String)]) -> [UInt8] {
        let old = read(path) ?? Array(includeHeader.utf8)
        let drop = Set(dropping.map { ListIndex.hash($0) })
        var bytes: [UInt8] = []
        bytes.reserveCapacity(old.count + adding.count * 48)
        forEachLine(old) { line in
            if let zone = includeEntry(line)?.zone, drop.contains(ListIndex.hash(zone)),
                dropping.contains(String(decoding: zone, as: UTF8.self))
            {
                return
            }
            bytes.append(contentsOf: line)
            bytes.append(10)
        }
        for (zone, type) in adding { appendInclude(zone, type, to: &bytes) }
        return bytes
    }

    /// The include file as zone → type.
    static func readInclude(_ path: String) -> [String: String] {
        var out: [String: String] = [:]
        forEachLine(path) { line in
            guard let entry = includeEntry(line) else { return }
            out[String(decoding: entry.zone, as: UTF8.self)] = String(decoding: entry.type, as: UTF8.self)
        }
        return out
    }

    /// Up to `count` zones picked at random from the include file, with their types: a read of
    /// a few hundred bytes at a random offset per pick, not of the whole file.
    static func sampleInclude(_ path: String, count: Int) -> [(zone: String, type: String)] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_size > includeHeader.utf8.count else { return [] }
        var out: [(String, String)] = []
        var window = [UInt8](repeating: 0, count: 1024)
        for _ in 0..<(count * 4) where out.count < count {
            // A random byte, then the first whole line after it (lines differ in length, which
            // biases the pick a little; a check needs no more than that).
            let offset = Int.random(in: 0..<Int(status.st_size))
            let got = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard got > 0 else { continue }
            window.withUnsafeBufferPointer { buffer in
                let bytes = UnsafeBufferPointer(rebasing: buffer[0..<got])
                guard let newline = bytes.firstIndex(of: 10) else { return }
                let rest = UnsafeBufferPointer(rebasing: bytes[(newline + 1)...])
                guard let end = rest.firstIndex(of: 10),
                    let entry = includeEntry(UnsafeBufferPointer(rebasing: rest[0..<end]))
                else { return }
                out.append((String(decoding: entry.zone, as: UTF8.self), String(decoding: entry.type, as: UTF8.self)))
            }
        }
        return out
    }

    /// The zone named on an include line (without its trailing dot) and its type, or nil for
    /// other lines.
    private static func includeEntry(_ line: UnsafeBufferPointer<UInt8>)
        -> (zone: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>)?
    {
        guard line.starts(with: includePrefix) else { return nil }
        let rest = UnsafeBufferPointer(rebasing: line[includePrefix.count...])
        guard let quote = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        let zoneEnd = quote > 0 && rest[quote - 1] == UInt8(ascii: ".") ? quote - 1 : quote
        // `name." type`: the type starts after the quote and a blank.
        let typeStart = min(rest.count, quote + 2)
        return (UnsafeBufferPointer(rebasing: rest[0..<zoneEnd]), UnsafeBufferPointer(rebasing: rest[typeStart...]))
    }

    private static func append(_ zone: String, to bytes: inout [UInt8]) {
        var zone = zone
        zone.withUTF8 { bytes.append(contentsOf: $0) }
        bytes.append(10)
    }

    private static func appendInclude(_ zone: String, _ type: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: includePrefix)
        var zone = zone
        zone.withUTF8 { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(32)
        var type = type
        type.withUTF8 { bytes.append(contentsOf: $0) }
        bytes.append(10)
    }
}
