/// Where helper records are kept (the daemon's store), so a daemon restart finds its helpers.
public protocol HelperLedger: Sendable {
    /// The helper recorded under `name`, or nil.
    func helper(_ name: String) async throws -> HelperRecord?
    /// Every recorded helper.
    func helpers() async throws -> [HelperRecord]
    /// Records (or replaces) a helper; durable when it returns.
    func saveHelper(_ record: HelperRecord) async throws
    /// Forgets a helper.
    func deleteHelper(_ name: String) async throws
}

/// A helper process the daemon started (unbound, dhcpcd, wireguard-go): what is needed to find it
/// again after a daemon restart, and to be sure it is the same process.
public struct HelperRecord: Sendable, Codable, Hashable {
    /// Its role (`unbound`, `dhcpcd:eth0`, `wireguard-go:wg0`).
    public var name: String
    /// Its PID.
    public var pid: Int32
    /// Its start time in clock ticks since boot: PID plus this names one process for good.
    public var startTicks: UInt64
    /// The command line it was started with.
    public var command: String
    /// A digest of its configuration, so a changed configuration restarts it.
    public var fingerprint: String?
    /// When it was started, epoch ms.
    public var startedMs: Int64

    /// Creates a record.
    public init(name: String, pid: Int32, startTicks: UInt64, command: String, fingerprint: String?, startedMs: Int64) {
        self.name = name
        self.pid = pid
        self.startTicks = startTicks
        self.command = command
        self.fingerprint = fingerprint
        self.startedMs = startedMs
    }
}
