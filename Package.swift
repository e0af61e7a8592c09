// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "luat-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KVCore", targets: ["KVCore"]),
        .library(name: "KVSQLite", targets: ["KVSQLite"]),
    ],
    dependencies: [],
    targets: [
        // Core KV semantics: validation, limits, expiration, cursors, JSON, in-memory storage.
        // Imports no Foundation and compiles under Embedded Swift (see .ci/check-embedded).
        .target(name: "KVCore"),
        // Debian's libsqlite3-dev, through pkg-config `sqlite3`.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "KVSQLite", dependencies: ["KVCore", "CSQLite"]),
        .testTarget(name: "KVConformanceTests", dependencies: ["KVCore", "KVSQLite"]),
    ]
)
