// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "luat-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KVCore", targets: ["KVCore"]),
        .library(name: "KVSQLite", targets: ["KVSQLite"]),
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        .library(name: "LuaHost", targets: ["LuaHost"]),
        .executable(name: "luat", targets: ["LuatCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Core KV semantics: validation, limits, expiration, cursors, JSON, in-memory storage.
        // Imports no Foundation and compiles under Embedded Swift (see .ci/check-embedded).
        .target(name: "KVCore"),
        // Debian's libsqlite3-dev, through pkg-config `sqlite3`.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "KVSQLite", dependencies: ["KVCore", "CSQLite"]),
        // A project on disk: luat.toml, its folders, and opening its store.
        .target(name: "LuatProject", dependencies: ["KVCore", "KVSQLite", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Debian's liblua5.4-dev, through pkg-config `lua5.4`. No Lua sources in the repository.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // Shims for Lua's function-like macros and the trampoline that raises Lua errors
        // after a Swift function has returned (Swift frames are never long-jumped over).
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        // The Lua state wrapper and the `KV`, `json`, `fail` globals and `require`.
        // Imports no Foundation and uses typed throws, for a later Embedded Swift (WASM) build.
        .target(name: "LuaRuntime", dependencies: ["KVCore", "CLuaShim"]),
        // Native glue: a LuaRuntime for a project on disk (file reading, paths from luat.toml).
        .target(name: "LuaHost", dependencies: ["LuaRuntime", "LuatProject", "KVCore"]),
        // `luat serve`: file routes, request ctx, Lua state pool, HTTP on Hummingbird.
        .target(
            name: "LuatServer",
            dependencies: [
                "KVCore", "LuatProject", "LuaRuntime", "LuaHost",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "LuatCLI",
            dependencies: ["KVCore", "LuatProject", "LuaRuntime", "LuaHost", "LuatServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KVConformanceTests", dependencies: ["KVCore", "KVSQLite", "CSQLite"]),
        .testTarget(name: "LuaRuntimeTests", dependencies: ["LuaRuntime", "LuaHost", "LuatProject", "KVCore", "KVSQLite"]),
        // Runs the built `luat` binary as a real process against real data files.
        .testTarget(name: "LuatCLITests", dependencies: ["LuatCLI", "KVCore", "KVSQLite"]),
        .testTarget(name: "LuatServerTests", dependencies: ["LuatServer", "LuatCLI", "KVCore"]),
    ]
)
