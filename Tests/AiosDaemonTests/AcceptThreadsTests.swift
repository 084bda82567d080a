import AiosLinux
import AiosTesting
import Foundation
import Synchronization
import Testing

@testable import AiosDaemon

@Suite("control connections: leader and followers")
struct AcceptThreadsTests {
    /// Polls `condition` every 2 ms until it holds or `seconds` pass.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        Poll.until(seconds: seconds, every: .milliseconds(2), condition)
    }

    @Test("connections are served at the same time, threads are started as needed and end when stopped")
    func concurrentConnections() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-accept-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.sock").path
        let listener = try UnixSocket.listen(path: path)
        let clients = 6
        let serving = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        // Each connection is held until all are being served at once: with one thread per
        // connection at a time this cannot finish.
        let threads = AcceptThreads(listener: listener, name: "aios-test") { connection in
            let now = serving.add(1, ordering: .acquiringAndReleasing).newValue
            most.max(now, ordering: .relaxed)
            _ = Self.eventually { serving.load(ordering: .acquiring) >= clients }
            _ = try? UnixSocket.writeAll(connection, Array("served \(now)\n".utf8))
            close(connection)
        }
        threads.start()
        let connections = try (0..<clients).map { _ in try UnixSocket.connect(path: path) }
        for connection in connections {
            var reader = LineReader(fd: connection)
            let line = try reader.next().map { String(decoding: $0, as: UTF8.self) }
            #expect(line?.hasPrefix("served") == true)
            close(connection)
        }
        #expect(most.load(ordering: .relaxed) == clients)
        // Done serving: the spare threads beyond the leader and `maxIdle` waiting ones end.
        #expect(Self.eventually { threads.running <= 1 + AcceptThreads.maxIdle }, "\(threads.running) threads")
        threads.stop()
        shutdown(listener, Int32(SHUT_RDWR))
        #expect(Self.eventually { threads.running == 0 }, "\(threads.running) threads after stop")
        close(listener)
    }
}

@Suite("log lines cannot be forged")
struct LogEscapingTests {
    @Test(
        "control characters in user text are escaped, so a comment cannot start a line of its own",
        arguments: [
            ("rule (web\n2026-12-07 error aios-net: fake)", #"rule (web\n2026-12-07 error aios-net: fake)"#),
            ("a\rb\tc\u{0}d\u{1b}[2J", #"a\rb\tc\0d\u{1b}[2J"#), ("plain text", "plain text"),
            ("line\u{2028}sep", #"line\u{2028}sep"#),
        ])
    func escaped(text: String, expected: String) {
        #expect(RedactingLogHandler.escaped(text) == expected)
    }
}
