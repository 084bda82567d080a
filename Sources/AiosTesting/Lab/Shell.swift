import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs commands for tests (ip, nft, the built binary) and captures their output.
public enum Shell {
    /// A finished command.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `arguments` to completion. Output goes through temporary files (no pipe deadlocks).
    public static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws
        -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("aios-sh-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
            try? FileManager.default.removeItem(atPath: base + ".in")
        }
        process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        if let stdin {
            _ = FileManager.default.createFile(atPath: base + ".in", contents: Data(stdin.utf8))
            process.standardInput = FileHandle(forReadingAtPath: base + ".in")
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Runs `arguments` and throws unless it exits 0.
    @discardableResult
    public static func check(_ arguments: [String]) throws -> String {
        let result = try run(arguments)
        guard result.status == 0 else { throw LabError.command(arguments, result.status, result.stderr) }
        return result.stdout
    }

    /// An absolute path for a program name.
    public static func resolve(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LabError.command([name], 127, "not found on PATH")
    }
}

/// Polling with a deadline: the one way tests wait (no fixed sleeps).
public enum Poll {
    /// Re-checks `condition` every `every` until it holds or `seconds` pass, blocking the thread.
    /// - Returns: whether it held.
    public static func until(seconds: Double, every: Duration = .milliseconds(20), _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let pause = useconds_t(every.components.seconds * 1_000_000 + every.components.attoseconds / 1_000_000_000_000)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(pause)
        }
        return condition()
    }

    /// The same, suspending between checks instead of blocking: for a condition that work in
    /// another task makes true (a blocked pool thread could starve that task).
    public static func until(
        seconds: Double, every: Duration = .milliseconds(10), _ condition: () async -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: every)
        }
        return await condition()
    }
}

/// The built `aios-net` binary for tests that run it.
public enum BuiltBinary {
    /// `$AIOS_NET_BINARY`, or `aios-net` next to the running test bundle, or `.build/debug/aios-net`.
    public static func path(file: String = #filePath) -> String {
        if let override = ProcessInfo.processInfo.environment["AIOS_NET_BINARY"] { return override }
        var candidates: [String] = []
        if let first = CommandLine.arguments.first {
            var directory = URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("aios-net").path)
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(packageRoot(file: file) + "/.build/debug/aios-net")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    /// The package's root directory.
    public static func packageRoot(file: String = #filePath) -> String {
        var root = URL(fileURLWithPath: file)
        while root.path != "/"
            && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
        {
            root = root.deletingLastPathComponent()
        }
        return root.path
    }
}
