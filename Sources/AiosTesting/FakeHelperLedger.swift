public import AiosLinux
import Synchronization

/// Helper records in memory, for the supervisor's unit tests: what the store keeps, and a count
/// of saves so a test can tell a record was written before a wait ended.
public final class FakeHelperLedger: HelperLedger {
    private let records = Mutex<[String: HelperRecord]>([:])

    /// An empty ledger.
    public init() {}

    public func helper(_ name: String) async throws -> HelperRecord? { records.withLock { $0[name] } }

    public func helpers() async throws -> [HelperRecord] {
        records.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    public func saveHelper(_ record: HelperRecord) async throws { records.withLock { $0[record.name] = record } }

    public func deleteHelper(_ name: String) async throws { _ = records.withLock { $0.removeValue(forKey: name) } }

    /// The record of `name`, read synchronously.
    public func record(_ name: String) -> HelperRecord? { records.withLock { $0[name] } }
}
