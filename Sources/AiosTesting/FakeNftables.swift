public import AiosNftables
import Synchronization

/// A libnftables stand-in for unit tests: records every document; listings answer "no such
/// table", so plans see an empty ruleset. Real nftables behaviour is tested in namespaces.
public final class FakeNftables: NftablesRunning {
    private let documents = Mutex<[String]>([])

    /// Creates the fake.
    public init() {}

    /// Every document run, in order.
    public var history: [String] { documents.withLock { $0 } }

    public func run(_ document: String) throws(NftablesError) -> String {
        documents.withLock { $0.append(document) }
        if document.contains("\"list\"") { throw NftablesError(message: "Error: No such file or directory") }
        return ""
    }

    public func runTerse(_ document: String) throws(NftablesError) -> String { try run(document) }
}
