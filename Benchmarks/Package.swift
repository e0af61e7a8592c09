// swift-tools-version:6.1
import PackageDescription

// The performance suite of issue 7, kept out of the main package so its `swift build` and
// `swift test` stay lean. Run it with `bench/run.sh` (everything, with ratios) or
// `swift package --disable-sandbox benchmark` here (the ordo-one benchmarks alone).
let package = Package(
    name: "LuatBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "luat-swift", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        // Targets 1–4 and 6 against raw sqlite3 baselines measured in the same run; the route call
        // against the same work inside Lua (issue 15).
        .executableTarget(
            name: "KVBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KVCore", package: "luat-swift"),
                .product(name: "KVSQLite", package: "luat-swift"),
                .product(name: "KVPostgres", package: "luat-swift"),
                .product(name: "LuaRuntime", package: "luat-swift"),
                .product(name: "LuatRouting", package: "luat-swift"),
                "CSQLiteBench",
            ],
            path: "Benchmarks/KVBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Target 7's baseline: a Hummingbird hello-world, timed from launch to first answer.
        .executableTarget(name: "HelloHummingbird", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        // The floor of the HTTP comparison (issue 15): SwiftNIO's HTTP/1.1 codec and one handler.
        .executableTarget(
            name: "HelloNIO",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The raw sqlite3 C API for the baselines (Debian's libsqlite3-dev).
        .systemLibrary(name: "CSQLiteBench", path: "Sources/CSQLiteBench", pkgConfig: "sqlite3"),
    ]
)
