/// What the blocked zones ask of the running resolver: whether it runs, its control commands
/// (`local_zones`, `local_zones_remove`, `list_local_zones`), and a replacement by a new process
/// that reads the include file. `ManagedResolver` is the real one (unbound over its control
/// socket); unit tests use `AiosTesting.FakeResolverControl`, which keeps the zones in memory.
public protocol ResolverControl: Sendable {
    /// The running process, if any.
    var runningPID: Int32? { get async }
    /// Runs a control command, with `input` lines for the bulk ones.
    func run(_ command: String, input: [String]?) async throws -> String
    /// Starts a new resolver on the same sockets and files and retires the running one.
    /// - Returns: false when there was none to replace.
    func replace(_ settings: DNSSettings) async throws -> Bool
}

extension ResolverControl {
    /// Runs a control command without input.
    public func run(_ command: String) async throws -> String { try await run(command, input: nil) }
}

extension ManagedResolver: ResolverControl {}
