/// The tools the orchestrator can run, by name. A value built once in the daemon's assembly (tests
/// build their own); there is no global registry.
public struct ToolRegistry: Sendable {
    private var tools: [String: RegisteredTool] = [:]
    private var installing: String?
    /// The installed modules' long-running work, in installation order.
    public private(set) var background: [any BackgroundWork] = []

    /// An empty registry.
    public init() {}

    /// Installs a module's tools under its namespace.
    /// - Throws: `AiosError.internal` on a duplicate name or a tool outside the module's namespace.
    public mutating func install<M: ToolModule>(_ module: M) throws {
        installing = M.namespace
        defer { installing = nil }
        try module.register(in: &self)
        background += module.background
    }

    /// Adds one tool.
    /// - Throws: `AiosError.internal` on a duplicate, a malformed name, or a name outside the
    ///   namespace being installed.
    public mutating func add<T: Tool>(_ tool: T) throws {
        let descriptor = T.descriptor
        let parts = descriptor.name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw AiosError(.internal, "tool name \(descriptor.name) is not of the form namespace.verb")
        }
        if let installing, descriptor.namespace != installing {
            throw AiosError(
                .internal, "module \(installing) cannot register \(descriptor.name): it is outside its namespace")
        }
        guard tools[descriptor.name] == nil else {
            throw AiosError(.internal, "tool \(descriptor.name) is registered twice")
        }
        tools[descriptor.name] = RegisteredTool(tool)
    }

    /// Every descriptor, sorted by name.
    public var descriptors: [ToolDescriptor] { tools.values.map(\.descriptor).sorted { $0.name < $1.name } }

    /// The descriptor of `name`, or nil.
    public func descriptor(named name: String) -> ToolDescriptor? { tools[name]?.descriptor }

    func tool(named name: String) -> RegisteredTool? { tools[name] }
}

/// A tool with its types erased to JSON, as the pipeline drives it.
struct RegisteredTool: Sendable {
    let descriptor: ToolDescriptor
    let plan: @Sendable (JSONValue, ToolContext) async throws -> ErasedPlan

    init<T: Tool>(_ tool: T) {
        descriptor = T.descriptor
        plan = { json, context in
            let input: T.Input
            do {
                if let fast = T.Input.self as? any TreeDecodable.Type, let read = try fast.init(tree: json) as? T.Input
                {
                    input = read
                } else {
                    input = try json.decode(as: T.Input.self)
                }
            } catch {
                throw DecodingProblem.error(from: error, root: "input")
            }
            let typed = try await tool.plan(input, in: context)
            return ErasedPlan(
                diff: typed.diff, changes: typed.changes, inverse: typed.inverse, probe: typed.probe,
                touches: typed.touches, disruptive: typed.disruptive, followUps: typed.followUps,
                afterward: typed.afterward,
                apply: {
                    let output = try await typed.apply()
                    if let verify = typed.verify { try await verify(output) }
                    return try JSONValue(encoding: output)
                })
        }
    }
}

/// A plan with its output erased to JSON; `apply` includes the tool's own verify step.
struct ErasedPlan: Sendable {
    var diff: [Change]
    var changes: Bool
    var inverse: CallRequest?
    var probe: CallRequest?
    var touches: [ProtectedItem]
    var disruptive: Bool
    var followUps: [CallRequest]
    var afterward: (@Sendable () async -> Void)?
    var apply: @Sendable () async throws -> JSONValue
}
