public import AiosCore
import Synchronization

/// A fake machine state for pipeline tests: one named value, rendered as text.
public final class FakeSwitch: Sendable {
    private let state = Mutex<String>("")
    private let applies = Mutex<Int>(0)

    /// Starts with `value`.
    public init(_ value: String = "") { state.withLock { $0 = value } }

    /// The current value.
    public var value: String { state.withLock { $0 } }

    /// How many times a change was applied (not counting rollbacks' own applies separately).
    public var applyCount: Int { applies.withLock { $0 } }

    func set(_ value: String) {
        state.withLock { $0 = value }
        applies.withLock { $0 += 1 }
    }
}

/// `fake.set`: a disruptive change of a `FakeSwitch` with an inverse; optionally fails (after
/// changing the switch) when asked to set `failOn`.
public struct FakeSetTool: Tool {
    public struct Input: Decodable, Sendable {
        public var value: String
        public var token: String?
    }
    public struct Output: Codable, Sendable {
        public var value: String
    }

    public static let descriptor = ToolDescriptor(
        name: "fake.set", summary: "Set the fake switch (disruptive)", effect: .disruptive,
        inputSchema: .object(
            ["value": .string("New value", maxLength: 64), "token": .string("A secret", secret: true)],
            required: ["value"],
            examples: [["value": "on"], ["value": "off", "token": "s3cr3t-token"]]))

    let target: FakeSwitch
    let failOn: String?

    /// A tool changing `target`.
    public init(_ target: FakeSwitch, failOn: String? = nil) {
        self.target = target
        self.failOn = failOn
    }

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        let current = target.value
        if current == input.value { return .unchanged(Output(value: current)) }
        return .change(
            [Change("set", "fake switch", detail: "\(current) → \(input.value)")],
            inverse: CallRequest(tool: "fake.set", input: ["value": .string(current)]),
            touches: [ProtectedItem(kind: "fake_switch", attributes: ["value": current])]
        ) { [failOn, target] in
            target.set(input.value)
            if input.value == failOn { throw AiosError(.kernel, "the fake kernel refused half-way") }
            return Output(value: input.value)
        }
    }
}

/// `fake.tweak`: a plain (unguarded) change of a `FakeSwitch`.
public struct FakeTweakTool: Tool {
    public struct Input: Decodable, Sendable { public var value: String }
    public struct Output: Codable, Sendable { public var value: String }

    public static let descriptor = ToolDescriptor(
        name: "fake.tweak", summary: "Set the fake switch (change)", effect: .change,
        inputSchema: .object(["value": .string("New value")], required: ["value"], examples: [["value": "on"]]))

    let target: FakeSwitch

    /// A tool changing `target`.
    public init(_ target: FakeSwitch) { self.target = target }

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        // A check only the plan can make (the schema takes any string).
        if input.value == "invalid" {
            throw AiosError(
                .invalidInput, "the switch takes no value \"invalid\"", location: InputLocation(field: "input.value"))
        }
        let current = target.value
        if current == input.value { return .unchanged(Output(value: current)) }
        // Setting "cut" can cut connectivity: this one change is disruptive although the tool is not.
        return .change(
            [Change("set", "fake switch", detail: "\(current) → \(input.value)")],
            inverse: CallRequest(tool: "fake.tweak", input: ["value": .string(current)]),
            disruptive: input.value == "cut"
        ) {
            target.set(input.value)
            return Output(value: input.value)
        }
    }
}

/// `fake.probe`: a read that succeeds only when the switch equals `expect`.
public struct FakeProbeTool: Tool {
    public struct Input: Decodable, Sendable { public var expect: String }
    public struct Output: Codable, Sendable { public var value: String }

    public static let descriptor = ToolDescriptor(
        name: "fake.probe", summary: "Succeeds when the fake switch equals a value", effect: .read,
        inputSchema: .object(["expect": .string("Expected value")], required: ["expect"], examples: [["expect": "on"]]))

    let target: FakeSwitch

    /// A probe of `target`.
    public init(_ target: FakeSwitch) { self.target = target }

    public func plan(_ input: Input, in context: ToolContext) async throws -> ToolPlan<Output> {
        .read {
            guard target.value == input.expect else {
                throw AiosError(.failed, "fake switch is \(target.value), expected \(input.expect)")
            }
            return Output(value: target.value)
        }
    }
}

/// The fake tools as a module (namespace `fake`).
public struct FakeModule: ToolModule {
    public static let namespace = "fake"
    let target: FakeSwitch
    let failOn: String?

    /// A module over `target`; `fake.set` fails half-way when setting `failOn`.
    public init(_ target: FakeSwitch, failOn: String? = nil) {
        self.target = target
        self.failOn = failOn
    }

    public func register(in registry: inout ToolRegistry) throws {
        try registry.add(FakeSetTool(target, failOn: failOn))
        try registry.add(FakeTweakTool(target))
        try registry.add(FakeProbeTool(target))
    }
}
