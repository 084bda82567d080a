import AiosTesting
import Foundation
import Testing

@Suite("doctor", .serialized)
struct DoctorTests {
    @Test("with a daemon running, doctor passes the database checks and finds the daemon")
    func healthy() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let result = try Shell.run([
                daemon.binary, "doctor", "--json", "--data-dir", daemon.dataDirectory, "--socket", daemon.socket,
            ])
            let checks = try Self.checks(result.stdout)
            for name in [
                "database", "database.writable", "database.schema", "database.tables", "database.wal", "daemon",
                "nftables",
            ] {
                #expect(checks[name]?["status"] as? String == "ok", "\(name): \(checks[name] ?? [:])")
            }
            for name in ["unbound", "dhcpcd", "wireguard-go", "wg", "libunbound", "libcurl"] {
                #expect(checks[name] != nil, "\(name)")
            }
            #expect(result.status == 0, "\(result.stdout)")
            _ = daemon.stop()
        }
    }

    @Test("a missing database fails clearly, with a fix, and is not created")
    func missing() async throws {
        try await Lab.with { lab in
            let directory = "\(lab.directory)/nothing-here"
            let binary = BuiltBinary.path()
            let result = try Shell.run([
                binary, "doctor", "--data-dir", directory, "--socket", "\(lab.directory)/none.sock",
            ])
            #expect(result.status == 1)
            #expect(result.stdout.contains("FAIL  database"))
            #expect(result.stdout.contains("fix: start the daemon once"))
            #expect(result.stdout.contains("warn  daemon"))
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }

    @Test("a read-only database fails the writable check (read-only bind mount in a private mount namespace)")
    func readOnly() async throws {
        try await Lab.with { lab in
            var daemon = try DaemonHarness(lab: lab, namespace: try lab.namespace("client"))
            try daemon.start()
            let exited = daemon.stop()
            #expect(exited, "the daemon exited on SIGTERM")
            let directory = daemon.dataDirectory
            // A clean exit checkpoints and removes the WAL; a WAL database without its -shm cannot
            // even be opened read-only, and that is what the database check must then say.
            let walLeft = FileManager.default.fileExists(atPath: "\(directory)/aios-net.sqlite-shm")
            // The mount exists only inside this unshare'd mount namespace; the host never sees it.
            let script =
                "mount --bind \(directory) \(directory) && mount -o remount,ro,bind \(directory) && exec \(daemon.binary) doctor --json --data-dir \(directory) --socket \(lab.directory)/none.sock"
            let result = try Shell.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script])
            let checks = try Self.checks(result.stdout)
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect(checks["database.writable"]?["status"] as? String == "fail")
            #expect((checks["database.writable"]?["hint"] as? String)?.isEmpty == false)
            if walLeft {
                // Its -wal/-shm are there (the daemon did not get to close it): it opens read-only.
                #expect(checks["database"]?["status"] as? String == "ok", "\(result.stdout)")
            } else {
                #expect(checks["database"]?["status"] as? String == "fail", "\(result.stdout)")
                #expect((checks["database"]?["detail"] as? String)?.contains("write access") == true)
            }
        }
    }

    static func checks(_ text: String) throws -> [String: [String: Any]] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let list = value?["checks"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }
}
