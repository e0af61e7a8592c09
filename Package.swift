// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "luat-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KVCore", targets: ["KVCore"]),
        .library(name: "KVSQLite", targets: ["KVSQLite"]),
        .library(name: "KVPostgres", targets: ["KVPostgres"]),
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        .library(name: "LuaHost", targets: ["LuaHost"]),
        .library(name: "LuatRouting", targets: ["LuatRouting"]),
        .library(name: "HistoryChecker", targets: ["HistoryChecker"]),
        .executable(name: "luat", targets: ["LuatCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Core KV semantics: validation, limits, expiration, cursors, JSON, in-memory storage.
        // Imports no Foundation and compiles under Embedded Swift (see scripts/check-embedded.sh).
        .target(name: "KVCore"),
        // Debian's libsqlite3-dev, through pkg-config `sqlite3`.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "KVSQLite", dependencies: ["KVCore", "CSQLite", .product(name: "DequeModule", package: "swift-collections")]),
        // PostgreSQL storage, for several servers sharing one database (docs/postgres.md).
        .target(
            name: "KVPostgres",
            dependencies: [
                "KVCore",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A project on disk: luat.toml, its folders, and opening its store.
        .target(name: "LuatProject", dependencies: ["KVCore", "KVSQLite", "KVPostgres", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Debian's liblua5.4-dev, through pkg-config `lua5.4`. No Lua sources in the repository.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // Shims for Lua's function-like macros and the trampoline that raises Lua errors
        // after a Swift function has returned (Swift frames are never long-jumped over).
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        // The Lua state wrapper and the `KV`, `json`, `fail` globals and `require`.
        // Imports no Foundation and uses typed throws; compiles under Embedded Swift for the WASM engine.
        .target(name: "LuaRuntime", dependencies: ["KVCore", "CLuaShim"]),
        // Native glue: a LuaRuntime for a project on disk (file reading, paths from luat.toml).
        .target(name: "LuaHost", dependencies: ["LuaRuntime", "LuatProject", "KVCore"]),
        // The rules that turn a route file's results into a response (endpoint methods, page
        // load + layouts, actions, redirects, the 500 error), shared by `luat serve` and the
        // WASM engine. Imports no Foundation and compiles under Embedded Swift (see
        // scripts/check-embedded.sh).
        .target(name: "LuatRouting", dependencies: ["KVCore", "LuaRuntime"]),
        // The HTTP layer: its own request/response types and handler protocol, shared by every
        // handler `luat serve` mounts (Lua routes, the KV REST API), and the HTTP/1.1 server
        // that runs them (SwiftNIO's codec and one channel handler per connection).
        .target(
            name: "LuatHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Cloudflare's Workers KV REST API and the KV browser page, as LuatHTTP handlers
        // `luat serve` mounts at /client/v4 and /_luat/kv (docs/kv-api.md).
        .target(
            name: "LuatKVAPI",
            dependencies: ["KVCore", "LuatHTTP", "LuatRouting", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // `luat serve`: file routes, request ctx, Lua state pool, served by LuatHTTP's server.
        .target(
            name: "LuatServer",
            dependencies: [
                "KVCore", "LuatProject", "LuaRuntime", "LuaHost", "LuatRouting", "LuatHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A linearizability checker for recorded concurrent histories (registers with versions,
        // counters), used by the reliability suite. Depends on nothing else in the package.
        .target(name: "HistoryChecker"),
        .executableTarget(
            name: "LuatCLI",
            dependencies: ["KVCore", "KVSQLite", "LuatProject", "LuaRuntime", "LuaHost", "LuatRouting", "LuatServer", "LuatKVAPI", "LuatHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "KVConformanceTests",
            dependencies: [
                "KVCore", "KVSQLite", "CSQLite", "KVPostgres", "LuatProject",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LuaRuntimeTests", dependencies: ["LuaRuntime", "LuaHost", "LuatProject", "KVCore", "KVSQLite", "HistoryChecker"]),
        // Runs the built `luat` binary as a real process against real data files.
        .testTarget(name: "LuatCLITests", dependencies: ["LuatCLI", "KVCore", "KVSQLite"]),
        .testTarget(name: "LuatRoutingTests", dependencies: ["LuatRouting", "LuaRuntime", "KVCore"]),
        .testTarget(name: "LuatHTTPTests", dependencies: ["LuatHTTP"]),
        .testTarget(name: "HistoryCheckerTests", dependencies: ["HistoryChecker"]),
        // The reliability suite (docs/reliability.md): real `luat` processes, real files, a real
        // server on loopback; kills, contention, linearizability, generated bad input.
        // `LUAT_RELIABILITY_SCALE` multiplies its counts (CI: 1).
        .testTarget(name: "ReliabilityTests", dependencies: ["HistoryChecker", "LuatCLI", "CSQLite"]),
        .testTarget(name: "LuatKVAPITests", dependencies: ["LuatKVAPI", "LuatHTTP", "KVCore", "KVSQLite", "KVPostgres"]),
        .testTarget(name: "LuatServerTests", dependencies: ["LuatServer", "LuatRouting", "LuatCLI", "KVCore", "LuatHTTP", "LuatProject", "HistoryChecker"]),
    ]
)
