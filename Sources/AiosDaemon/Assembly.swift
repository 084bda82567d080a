public import AiosCore
import AiosNetTools

/// The only place that knows the full list of tool modules: one line per module.
public enum Assembly {
    /// The daemon's registry for `options` (benchmarks and tests build the same one).
    public static func registry(_ options: DaemonOptions) throws -> ToolRegistry {
        var registry = ToolRegistry()
        try registry.install(NetModule())
        if options.labTools {
            try registry.install(LabModule(directory: options.dataDirectory))
        }
        return registry
    }
}
