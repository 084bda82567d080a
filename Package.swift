// swift-tools-version: 6.2
// aios-net: an agent-driven network controller for Linux. Module map and dependency direction:
// ../STYLE.md §3 (arrows point down only: CLI → Daemon → tool modules → Store → Core; adapters → C).
import PackageDescription

/// Settings every Swift target shares: Swift 6 mode (strict concurrency), the upcoming features the
/// style guide asks for, and warnings as errors (warnings are bugs here).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let sqlite = Target.Dependency.product(name: "GRDBSQLite", package: "GRDB.swift")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "aios-net",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aios-net", targets: ["aios-net"]),
        .executable(name: "aios-bench", targets: ["AiosBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C system libraries: a module map plus a header of static-inline shims for what Swift cannot
        // call (variadic functions, function-like macros). Each system header has exactly one owner.
        .systemLibrary(
            name: "CNetlink", path: "Sources/C/CNetlink", pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]),
        .target(name: "CSystem", path: "Sources/C/CSystem"),
        .systemLibrary(
            name: "CNftables", path: "Sources/C/CNftables", pkgConfig: "libnftables",
            providers: [.apt(["libnftables-dev"])]),
        // No pkgConfig: Debian's libunbound.pc names private requirements whose .pc files are missing.
        .systemLibrary(name: "CUnbound", path: "Sources/C/CUnbound", providers: [.apt(["libunbound-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/C/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // Core: tool contract, registry, pipeline, policy, guard, errors, secrets. No OS calls, no YAML.
        .target(name: "AiosCore", dependencies: [log], exclude: ["README.md"], swiftSettings: strict),
        // State: one SQLite database, one migration timeline.
        .target(
            name: "AiosStore", dependencies: ["AiosCore", "AiosLinux", grdb, sqlite], exclude: ["README.md"],
            swiftSettings: strict),
        // YAML documents (policies now, goals later) decoded with file:line:field errors.
        .target(name: "AiosYAML", dependencies: ["AiosCore", yams], exclude: ["README.md"], swiftSettings: strict),

        // Adapters: speak their library's language, know nothing of aios-net.
        .target(
            name: "AiosLinux", dependencies: ["CNetlink", "CSystem"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AiosNftables", dependencies: ["CNftables"], exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "AiosUnbound", dependencies: ["CUnbound", "AiosLinux"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AiosCurl", dependencies: ["CCurl", "AiosLinux"], exclude: ["README.md"], swiftSettings: strict),

        // Tool modules: one namespace each.
        .target(
            name: "AiosFirewallTools", dependencies: ["AiosCore", "AiosStore", "AiosNftables", "AiosLinux"],
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "AiosDNSTools", dependencies: ["AiosCore", "AiosStore", "AiosUnbound", "AiosCurl", "AiosLinux", log],
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "AiosNetTools",
            dependencies: ["AiosCore", "AiosStore", "AiosLinux", "AiosUnbound", "AiosCurl", crypto, log],
            exclude: ["README.md"],
            swiftSettings: strict),

        // Goals: documents, handlers (one per kind), the reconciler, the watch directory.
        .target(
            name: "AiosGoals", dependencies: ["AiosCore", "AiosStore", "AiosYAML", "AiosLinux", log],
            exclude: ["README.md"], swiftSettings: strict),

        // Control socket wire types and the client, shared by CLI and daemon.
        .target(
            name: "AiosControl", dependencies: ["AiosCore", "AiosLinux"], exclude: ["README.md"], swiftSettings: strict),
        // Assembly: registry, services, socket server, doctor.
        .target(
            name: "AiosDaemon",
            dependencies: [
                "AiosCore", "AiosStore", "AiosYAML", "AiosLinux", "AiosNftables", "AiosUnbound", "AiosCurl",
                "AiosNetTools", "AiosFirewallTools", "AiosDNSTools", "AiosGoals", "AiosControl", log, lifecycle,
                unixSignals,
            ],
            exclude: ["README.md"], swiftSettings: strict),
        .executableTarget(
            name: "aios-net",
            dependencies: ["AiosDaemon", "AiosControl", "AiosCore", "AiosGoals", "AiosLinux", argumentParser, log],
            exclude: ["README.md"], swiftSettings: strict),

        // Test support: fakes and the namespace lab. Never imported by shipping code.
        .target(
            name: "AiosTesting",
            dependencies: ["AiosCore", "AiosNftables", "AiosLinux", "AiosDNSTools", "AiosCurl", log],
            exclude: ["README.md"],
            swiftSettings: strict),

        .executableTarget(
            name: "AiosBench",
            dependencies: [
                "AiosCore", "AiosStore", "AiosDaemon", "AiosControl", "AiosNftables", "AiosLinux", "AiosDNSTools",
                "AiosUnbound", "AiosTesting", log,
            ],
            path: "Benchmarks/AiosBench", swiftSettings: strict),

        .testTarget(name: "AiosCoreTests", dependencies: ["AiosCore", "AiosTesting", log], swiftSettings: strict),
        .testTarget(
            name: "AiosStoreTests",
            dependencies: ["AiosStore", "AiosCore", grdb],
            swiftSettings: strict),
        .testTarget(
            name: "AiosDaemonTests",
            dependencies: [
                "AiosDaemon", "AiosCore", "AiosStore", "AiosTesting", "AiosLinux", "AiosGoals", log,
            ],
            exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "AiosIntegrationTests",
            dependencies: ["AiosTesting", "AiosCore", "AiosLinux", "AiosStore"], swiftSettings: strict),
        .testTarget(
            name: "AiosNetToolsTests",
            dependencies: ["AiosNetTools", "AiosLinux", "AiosCore", "AiosStore", "AiosTesting", "AiosCurl", log],
            swiftSettings: strict),
        .testTarget(
            name: "AiosFirewallToolsTests",
            dependencies: ["AiosFirewallTools", "AiosCore", "AiosStore", "AiosLinux", "AiosTesting", log],
            swiftSettings: strict),
        .testTarget(name: "AiosNftablesTests", dependencies: ["AiosNftables", "AiosTesting"], swiftSettings: strict),
        .testTarget(
            name: "AiosDNSToolsTests",
            dependencies: ["AiosDNSTools", "AiosCore", "AiosCurl", "AiosStore", "AiosTesting", log],
            swiftSettings: strict),
        .testTarget(
            name: "AiosGoalsTests",
            dependencies: ["AiosGoals", "AiosFirewallTools", "AiosCore", "AiosStore", "AiosTesting", "AiosYAML", log],
            swiftSettings: strict),
        .testTarget(name: "AiosCLITests", dependencies: ["AiosTesting"], swiftSettings: strict),
    ]
)
