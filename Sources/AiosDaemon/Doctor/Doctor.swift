import AiosControl
import AiosCore
import AiosCurl
import AiosLinux
import AiosNftables
import AiosStore
import AiosUnbound
import Foundation

/// One `doctor` finding.
public struct DoctorCheck: Sendable, Codable, Equatable {
    /// ok, warn or fail.
    public enum Status: String, Sendable, Codable { case ok, warn, fail }
    /// What was checked (`database.writable`).
    public var name: String
    /// The result.
    public var status: Status
    /// What was found.
    public var detail: String
    /// What to do about it (absent when ok).
    public var hint: String?
}

/// Health checks that work without the daemon: database, socket, and the programs and libraries
/// aios-net drives. Each failing check says how to fix it.
public enum Doctor {
    /// Runs every check.
    public static func run(dataDirectory: String, socketPath: String) -> [DoctorCheck] {
        database(dataDirectory) + [daemon(socketPath), nftables()] + programs()
    }

    static func database(_ directory: String) -> [DoctorCheck] {
        let db = DatabaseInspection.inspect(dataDirectory: directory)
        guard db.exists else {
            return [
                DoctorCheck(
                    name: "database", status: .fail, detail: "no database at \(db.path)",
                    hint:
                        "start the daemon once (`aios-net daemon --data-dir \(directory)`) to create it, or set --data-dir / AIOS_NET_DATA_DIR to where it lives"
                )
            ]
        }
        let writable =
            db.writable
            ? DoctorCheck(name: "database.writable", status: .ok, detail: "file and directory are writable")
            : DoctorCheck(
                name: "database.writable", status: .fail,
                detail: "\(db.path) or its directory is read-only for this process",
                hint:
                    "remount the filesystem read-write, or fix ownership/permissions (`chown -R root: \(directory) && chmod 700 \(directory)`), or run as root"
            )
        guard db.opens else {
            let detail =
                db.writable
                ? "\(db.path) does not open as SQLite: \(db.error ?? "unknown error")"
                : "\(db.path) cannot be opened: a WAL database needs write access to its directory (\(db.error ?? "unknown error"))"
            let hint =
                db.writable
                ? "move the file aside and restart the daemon to create a fresh one (the audit trail in it is lost)"
                : "make \(directory) writable (see database.writable)"
            return [DoctorCheck(name: "database", status: .fail, detail: detail, hint: hint), writable]
        }
        var checks = [DoctorCheck(name: "database", status: .ok, detail: "\(db.path) opens"), writable]
        let version = db.schemaVersion ?? 0
        checks.append(
            version == Store.schemaVersion
                ? DoctorCheck(name: "database.schema", status: .ok, detail: "schema version \(version)")
                : DoctorCheck(
                    name: "database.schema", status: .fail,
                    detail: "schema version \(version), this build expects \(Store.schemaVersion)",
                    hint: version < Store.schemaVersion
                        ? "start the daemon: it migrates the database on start"
                        : "this database was written by a newer aios-net; upgrade this binary"))
        checks.append(
            db.missingTables.isEmpty
                ? DoctorCheck(
                    name: "database.tables", status: .ok,
                    detail: "tables \(Store.requiredTables.joined(separator: ", "))")
                : DoctorCheck(
                    name: "database.tables", status: .fail,
                    detail: "missing tables: \(db.missingTables.joined(separator: ", "))",
                    hint: "start the daemon so it runs its migrations"))
        checks.append(
            db.journalMode == "wal"
                ? DoctorCheck(name: "database.wal", status: .ok, detail: "journal mode wal")
                : DoctorCheck(
                    name: "database.wal", status: .fail, detail: "journal mode \(db.journalMode ?? "unknown")",
                    hint: "start the daemon: it opens the database in WAL mode"))
        return checks
    }

    static func daemon(_ socketPath: String) -> DoctorCheck {
        do {
            let status = try ControlClient(socketPath: socketPath).send("status")
            let pid = status["pid"]?.intValue.map(String.init) ?? "?"
            return DoctorCheck(name: "daemon", status: .ok, detail: "answering at \(socketPath) (pid \(pid))")
        } catch let error as AiosError where error.code == .permissionDenied {
            return DoctorCheck(name: "daemon", status: .fail, detail: error.message, hint: "run doctor as root")
        } catch {
            return DoctorCheck(
                name: "daemon", status: .warn, detail: "not reachable at \(socketPath)",
                hint:
                    "start it: `aios-net daemon` (or `systemctl start aios-net`); set --socket / AIOS_NET_SOCKET if it listens elsewhere"
            )
        }
    }

    static func nftables() -> DoctorCheck {
        do {
            let context = try NftablesContext()
            return DoctorCheck(name: "nftables", status: .ok, detail: "libnftables \(try context.version())")
        } catch {
            return DoctorCheck(
                name: "nftables", status: .fail, detail: "libnftables cannot list tables: \(error)",
                hint: "install nftables and libnftables1 (`Tools/install-deps`) and run as root (CAP_NET_ADMIN)")
        }
    }

    static func programs() -> [DoctorCheck] {
        var checks = [
            DoctorCheck(name: "libunbound", status: .ok, detail: "libunbound \(UnboundLibrary.version)"),
            DoctorCheck(name: "libcurl", status: .ok, detail: CurlLibrary.version),
        ]
        let programs: [(name: String, arguments: [String], package: String)] = [
            ("unbound", ["-V"], "unbound"), ("unbound-control", ["-h"], "unbound"),
            ("dhcpcd", ["--version"], "dhcpcd-base"),
            ("wireguard-go", ["--version"], "wireguard-go"), ("wg", ["--version"], "wireguard-tools"),
        ]
        for program in programs {
            guard let path = ProgramLocator.find(program.name) else {
                checks.append(
                    DoctorCheck(
                        name: program.name, status: .warn, detail: "\(program.name) is not installed",
                        hint:
                            "apt-get install -y --no-install-recommends \(program.package) (or run Tools/install-deps)")
                )
                continue
            }
            let version = ProgramLocator.firstLine(of: path, arguments: program.arguments) ?? "present"
            checks.append(DoctorCheck(name: program.name, status: .ok, detail: "\(path): \(version)"))
        }
        return checks
    }
}

/// Finds programs on the usual paths and reads their version line.
enum ProgramLocator {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func firstLine(of path: String, arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.first {
            $0.lowercased().contains("version") || $0.first?.isNumber == true || $0.hasPrefix("wireguard")
        }
            ?? lines.first.map { String($0.prefix(80)) }
    }
}
