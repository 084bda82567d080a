/// What a tool does to the machine; the policy gate and the guard key off it.
public enum Effect: String, Sendable, Codable, CaseIterable, Comparable {
    /// Observes only.
    case read
    /// Alters state, reversibly.
    case change
    /// May cut connectivity: always runs under the guard.
    case disruptive

    private var rank: Int {
        switch self {
        case .read: 0
        case .change: 1
        case .disruptive: 2
        }
    }

    public static func < (lhs: Effect, rhs: Effect) -> Bool { lhs.rank < rhs.rank }
}
