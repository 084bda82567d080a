/// A tool name and its JSON input: what an inverse, a probe or a queued call is stored as.
public struct CallRequest: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The tool's name.
    public var tool: String
    /// The tool's input.
    public var input: JSONValue

    /// Creates a request.
    public init(tool: String, input: JSONValue = [:]) {
        self.tool = tool
        self.input = input
    }

    public var description: String { "\(tool) \(input.jsonText)" }
}
