public import AiosCore
import Foundation
import GRDB

/// A sandbox network: a bridge with a subnet whose first address is the workloads' gateway.
public struct SandboxRecord: Sendable, Codable, Hashable {
    /// Its name (`default`).
    public var name: String
    /// The bridge (`br-aios`).
    public var bridge: String
    /// The subnet (`10.88.0.0/24`).
    public var subnet: String
    /// The bridge's own address, the workloads' gateway (`10.88.0.1`).
    public var gateway: String
    /// The profile workloads get unless their attach names another.
    public var profile: String
    /// Who created it.
    public var origin: String
    /// When, epoch ms.
    public var createdMs: Int64

    /// Creates a record.
    public init(
        name: String, bridge: String, subnet: String, gateway: String, profile: String, origin: String, createdMs: Int64
    ) {
        self.name = name
        self.bridge = bridge
        self.subnet = subnet
        self.gateway = gateway
        self.profile = profile
        self.origin = origin
        self.createdMs = createdMs
    }
}

/// A workload attached to a sandbox network.
public struct SandboxWorkloadRecord: Sendable, Codable, Hashable {
    /// The sandbox's name.
    public var sandbox: String
    /// The workload's name (`task-001`).
    public var name: String
    /// Its profile (`none`, `host-loopback`, `nat-filtered`, `isolated`, `custom`).
    public var profile: String
    /// Its address in the sandbox subnet; nil for profile `none` (no interface).
    public var address: String?
    /// The host end of its veth (a bridge port); nil for profile `none`.
    public var hostInterface: String?
    /// The namespace file its end lives in.
    public var namespace: String?
    /// The explicit allow list of a `custom` profile (JSON array).
    public var allow: JSONValue
    /// Who attached it.
    public var origin: String
    /// When, epoch ms.
    public var createdMs: Int64

    /// Creates a record.
    public init(
        sandbox: String, name: String, profile: String, address: String?, hostInterface: String?, namespace: String?,
        allow: JSONValue, origin: String, createdMs: Int64
    ) {
        self.sandbox = sandbox
        self.name = name
        self.profile = profile
        self.address = address
        self.hostInterface = hostInterface
        self.namespace = namespace
        self.allow = allow
        self.origin = origin
        self.createdMs = createdMs
    }
}

extension Store {
    /// Every sandbox, by name.
    public func sandboxes() async throws -> [SandboxRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sandboxes ORDER BY name").map(Self.decodeSandbox)
        }
    }

    /// The sandbox named `name`, or nil.
    public func sandbox(named name: String) async throws -> SandboxRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sandboxes WHERE name = ?", arguments: [name]).map(
                Self.decodeSandbox)
        }
    }

    /// Inserts or replaces a sandbox; committed when it returns.
    public func saveSandbox(_ record: SandboxRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sandboxes (name, bridge, subnet, gateway, profile, origin, created_ms)
                    VALUES (?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET bridge = excluded.bridge,
                    subnet = excluded.subnet, gateway = excluded.gateway, profile = excluded.profile
                    """,
                arguments: [
                    record.name, record.bridge, record.subnet, record.gateway, record.profile, record.origin,
                    record.createdMs,
                ])
        }
    }

    /// Deletes a sandbox and its workloads.
    public func deleteSandbox(named name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sandbox_workloads WHERE sandbox = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM sandboxes WHERE name = ?", arguments: [name])
        }
    }

    /// The workloads of `sandbox` (every sandbox when nil), by sandbox and name.
    public func sandboxWorkloads(in sandbox: String? = nil) async throws -> [SandboxWorkloadRecord] {
        try await pool.read { db in
            let rows =
                if let sandbox {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM sandbox_workloads WHERE sandbox = ? ORDER BY name", arguments: [sandbox]
                    )
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM sandbox_workloads ORDER BY sandbox, name")
                }
            return try rows.map(Self.decodeWorkload)
        }
    }

    /// Inserts or replaces a workload; committed when it returns.
    /// - Throws: when another workload of the sandbox already holds its address.
    public func saveSandboxWorkload(_ record: SandboxWorkloadRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sandbox_workloads (sandbox, name, profile, address, host_interface, namespace, allow,
                        origin, created_ms) VALUES (?,?,?,?,?,?,?,?,?)
                    ON CONFLICT(sandbox, name) DO UPDATE SET profile = excluded.profile, address = excluded.address,
                    host_interface = excluded.host_interface, namespace = excluded.namespace, allow = excluded.allow
                    """,
                arguments: [
                    record.sandbox, record.name, record.profile, record.address, record.hostInterface,
                    record.namespace, record.allow.jsonText, record.origin, record.createdMs,
                ])
        }
    }

    /// Deletes one workload.
    public func deleteSandboxWorkload(sandbox: String, name: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM sandbox_workloads WHERE sandbox = ? AND name = ?", arguments: [sandbox, name])
        }
    }

    private static func decodeSandbox(_ row: Row) -> SandboxRecord {
        SandboxRecord(
            name: row["name"], bridge: row["bridge"], subnet: row["subnet"], gateway: row["gateway"],
            profile: row["profile"], origin: row["origin"], createdMs: row["created_ms"])
    }

    private static func decodeWorkload(_ row: Row) throws -> SandboxWorkloadRecord {
        SandboxWorkloadRecord(
            sandbox: row["sandbox"], name: row["name"], profile: row["profile"], address: row["address"],
            hostInterface: row["host_interface"], namespace: row["namespace"],
            allow: try JSONValue(parsing: row["allow"]), origin: row["origin"], createdMs: row["created_ms"])
    }
}
