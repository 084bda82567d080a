/// A plugin that owns one namespace of tools (`net`, `firewall`, `dns`).
///
/// The daemon installs modules in one assembly file, one line each; core knows no module.
public protocol ToolModule: Sendable {
    /// The namespace every tool of this module is named under.
    static var namespace: String { get }

    /// Adds this module's tools.
    /// - Throws: `AiosError` when a tool's name is taken or outside `namespace`.
    func register(in registry: inout ToolRegistry) throws
}
