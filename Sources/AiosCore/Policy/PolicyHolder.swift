import Synchronization

/// The policy in force, swappable at run time. A rejected replacement never reaches it, so the
/// previous policy stays in force when a new file is malformed.
public final class PolicyHolder: Sendable {
    private let current: Mutex<Policy>

    /// Starts with `policy` in force.
    public init(_ policy: Policy) { current = Mutex(policy) }

    /// The policy in force.
    public var policy: Policy { current.withLock { $0 } }

    /// Puts `policy` in force.
    public func replace(with policy: Policy) { current.withLock { $0 = policy } }
}
