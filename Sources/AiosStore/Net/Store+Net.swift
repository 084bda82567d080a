public import AiosCore
import Foundation
import GRDB

/// What `net.configure` last made true for an interface (reapplied after a reboot, used by the
/// link monitor to configure an alternate uplink).
public struct InterfaceIntentRecord: Sendable, Codable, Hashable {
    public var interface: String
    /// `static` or `dhcp`.
    public var method: String
    /// The input as given (addresses, gateway, mtu, dns, …).
    public var config: JSONValue
    public var origin: String
    public var updatedMs: Int64

    /// Creates a record.
    public init(interface: String, method: String, config: JSONValue, origin: String, updatedMs: Int64) {
        self.interface = interface
        self.method = method
        self.config = config
        self.origin = origin
        self.updatedMs = updatedMs
    }
}

/// A WireGuard interface as configured (its private key is in a 0600 file, never here).
public struct WireGuardRecord: Sendable, Codable, Hashable {
    public var interface: String
    /// listen port, address, peers (public keys, endpoints, allowed IPs, keepalive), mesh.
    public var config: JSONValue
    /// The interface's public key (base64).
    public var publicKey: String
    /// `kernel` or `wireguard-go`.
    public var backend: String
    public var origin: String
    public var updatedMs: Int64

    /// Creates a record.
    public init(
        interface: String, config: JSONValue, publicKey: String, backend: String, origin: String, updatedMs: Int64
    ) {
        self.interface = interface
        self.config = config
        self.publicKey = publicKey
        self.backend = backend
        self.origin = origin
        self.updatedMs = updatedMs
    }
}

/// An address handed to a name from a pool.
public struct AllocationRecord: Sendable, Codable, Hashable {
    public var pool: String
    public var name: String
    public var address: String
    public var origin: String
    public var createdMs: Int64

    /// Creates a record.
    public init(pool: String, name: String, address: String, origin: String, createdMs: Int64) {
        self.pool = pool
        self.name = name
        self.address = address
        self.origin = origin
        self.createdMs = createdMs
    }
}

extension Store {
    /// The stored intents, by interface.
    public func interfaceIntents() async throws -> [InterfaceIntentRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM net_interfaces ORDER BY interface").map { row in
                InterfaceIntentRecord(
                    interface: row["interface"], method: row["method"],
                    config: try JSONValue(parsing: row["config"] as String),
                    origin: row["origin"], updatedMs: row["updated_ms"])
            }
        }
    }

    /// Stores (or replaces) an interface's intent.
    public func saveInterfaceIntent(_ record: InterfaceIntentRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO net_interfaces (interface, method, config, origin, updated_ms) VALUES (?,?,?,?,?)
                    ON CONFLICT(interface) DO UPDATE SET method = excluded.method, config = excluded.config,
                    origin = excluded.origin, updated_ms = excluded.updated_ms
                    """,
                arguments: [record.interface, record.method, record.config.jsonText, record.origin, record.updatedMs])
        }
    }

    /// Forgets an interface's intent.
    public func deleteInterfaceIntent(_ interface: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM net_interfaces WHERE interface = ?", arguments: [interface])
        }
    }

    /// The last DHCP event per interface: (reason, lease variables, when).
    public func dhcpLease(_ interface: String) async throws -> (reason: String, lease: JSONValue, updatedMs: Int64)? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dhcp_leases WHERE interface = ?", arguments: [interface]).map {
                (
                    reason: $0["reason"], lease: try JSONValue(parsing: $0["lease"] as String),
                    updatedMs: $0["updated_ms"]
                )
            }
        }
    }

    /// Records a DHCP event for an interface.
    public func saveDHCPLease(_ interface: String, reason: String, lease: JSONValue, at ms: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO dhcp_leases (interface, reason, lease, updated_ms) VALUES (?,?,?,?)
                    ON CONFLICT(interface) DO UPDATE SET reason = excluded.reason, lease = excluded.lease,
                    updated_ms = excluded.updated_ms
                    """, arguments: [interface, reason, lease.jsonText, ms])
        }
    }

    /// Every WireGuard interface.
    public func wireGuardInterfaces() async throws -> [WireGuardRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM wireguard_interfaces ORDER BY interface").map { row in
                WireGuardRecord(
                    interface: row["interface"], config: try JSONValue(parsing: row["config"] as String),
                    publicKey: row["public_key"], backend: row["backend"], origin: row["origin"],
                    updatedMs: row["updated_ms"])
            }
        }
    }

    /// Stores (or replaces) a WireGuard interface.
    public func saveWireGuard(_ record: WireGuardRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO wireguard_interfaces (interface, config, public_key, backend, origin, updated_ms)
                    VALUES (?,?,?,?,?,?) ON CONFLICT(interface) DO UPDATE SET config = excluded.config,
                    public_key = excluded.public_key, backend = excluded.backend, updated_ms = excluded.updated_ms
                    """,
                arguments: [
                    record.interface, record.config.jsonText, record.publicKey, record.backend, record.origin,
                    record.updatedMs,
                ])
        }
    }

    /// Forgets a WireGuard interface.
    public func deleteWireGuard(_ interface: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM wireguard_interfaces WHERE interface = ?", arguments: [interface])
        }
    }

    /// The allocations of `pool`.
    public func allocations(pool: String) async throws -> [AllocationRecord] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM allocations WHERE pool = ? ORDER BY created_ms", arguments: [pool])
                .map {
                    AllocationRecord(
                        pool: $0["pool"], name: $0["name"], address: $0["address"], origin: $0["origin"],
                        createdMs: $0["created_ms"])
                }
        }
    }

    /// Hands `name` the first free address `choose` picks from what is taken, in one transaction
    /// (two callers never get the same address); an existing allocation is returned as it is.
    /// - Returns: the allocation and whether it is new.
    public func allocate(
        pool: String, name: String, origin: String, now: Int64, choose: @Sendable (Set<String>) throws -> String
    ) async throws -> (AllocationRecord, Bool) {
        try await self.pool.write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM allocations WHERE pool = ? AND name = ?", arguments: [pool, name])
            {
                return (
                    AllocationRecord(
                        pool: row["pool"], name: row["name"], address: row["address"], origin: row["origin"],
                        createdMs: row["created_ms"]),
                    false
                )
            }
            let taken = Set(
                try String.fetchAll(db, sql: "SELECT address FROM allocations WHERE pool = ?", arguments: [pool]))
            let address = try choose(taken)
            try db.execute(
                sql: "INSERT INTO allocations (pool, name, address, origin, created_ms) VALUES (?,?,?,?,?)",
                arguments: [pool, name, address, origin, now])
            return (AllocationRecord(pool: pool, name: name, address: address, origin: origin, createdMs: now), true)
        }
    }

    /// Releases `name`'s allocation; returns it when there was one.
    public func release(pool: String, name: String) async throws -> AllocationRecord? {
        try await self.pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM allocations WHERE pool = ? AND name = ?", arguments: [pool, name])
            else {
                return nil
            }
            try db.execute(sql: "DELETE FROM allocations WHERE pool = ? AND name = ?", arguments: [pool, name])
            return AllocationRecord(
                pool: row["pool"], name: row["name"], address: row["address"], origin: row["origin"],
                createdMs: row["created_ms"])
        }
    }
}
