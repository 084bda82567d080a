import AiosCore
import AiosCurl
import AiosStore

/// What the `dns.*` tools share: the store, the managed resolver and its zone and record state.
struct DNSContext: Sendable {
    let store: Store
    let paths: DNSPaths
    let resolver: ManagedResolver
    let zones: BlockZones
    /// Which list blocks which zone, written after the answer.
    let rows: ListZoneRows
    let records: LocalRecords
    let source: BlocklistSource
    /// Settings from the daemon's flags, used until `dns.configure` stores others.
    let defaults: DNSSettings
    /// Flags that always win over stored settings (the listen address and upstreams given on the
    /// command line).
    let overrides: DNSOverrides

    /// The settings in force: the stored ones (the flags' values until `dns.configure` stored others).
    func settings() async throws -> DNSSettings {
        try await store.setting(DNSSettings.key).map { try $0.decode(as: DNSSettings.self) } ?? defaults
    }

    /// At daemon start, flags given on the command line win over what is stored.
    func applyOverrides() async throws -> DNSSettings {
        var settings = try await self.settings()
        if let listen = overrides.listen {
            settings.listenAddress = listen.address
            settings.port = listen.port
        }
        if let upstreams = overrides.upstreams { settings.upstreams = upstreams }
        if overrides.listen != nil || overrides.upstreams != nil { try await save(settings) }
        return settings
    }

    /// Stores settings.
    func save(_ settings: DNSSettings) async throws {
        try await store.setSetting(DNSSettings.key, try JSONValue(encoding: settings))
    }
}

/// Command-line values that override stored DNS settings.
public struct DNSOverrides: Sendable {
    /// `--dns-listen ADDR[:PORT]`.
    public var listen: (address: String, port: Int)?
    /// `--dns-upstream ADDR` (repeatable).
    public var upstreams: [String]?

    /// Creates overrides.
    public init(listen: (address: String, port: Int)? = nil, upstreams: [String]? = nil) {
        self.listen = listen
        self.upstreams = upstreams
    }
}
