#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The built `luat` binary and ways to run it as a real process for the reliability suite.
enum Luat {
    /// The `luat` executable SwiftPM built beside this test bundle (the test target depends on
    /// the executable target). `LUAT_BINARY` overrides.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["LUAT_BINARY"] { return path }
        var folders = [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for folder in folders {
            let candidate = folder.appendingPathComponent("luat").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/luat").path
    }()

    /// Multiplies the suite's counts (`LUAT_RELIABILITY_SCALE`, default 1, the CI value).
    static let scale: Double = {
        ProcessInfo.processInfo.environment["LUAT_RELIABILITY_SCALE"].flatMap(Double.init) ?? 1
    }()

    static func scaled(_ count: Int, minimum: Int = 1) -> Int { max(minimum, Int((Double(count) * scale).rounded())) }

    /// The seed of the suite's random choices (`LUAT_RELIABILITY_SEED`, default fixed), so a
    /// failure can be replayed.
    static let seed: UInt64 = {
        ProcessInfo.processInfo.environment["LUAT_RELIABILITY_SEED"].flatMap(UInt64.init) ?? 20_261_202
    }()

    /// Starts `luat ARGUMENTS` in `directory`, standard output and error into files.
    static func start(_ arguments: [String], in directory: String, stdout: String, stderr: String,
                      environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        FileManager.default.createFile(atPath: stdout, contents: nil)
        FileManager.default.createFile(atPath: stderr, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
        process.standardError = FileHandle(forWritingAtPath: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    struct Result {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String
    }

    /// Runs `luat ARGUMENTS` in `directory` to its end.
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Result {
        let scratch = NSTemporaryDirectory() + "luat-rel-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch + ".out"); try? FileManager.default.removeItem(atPath: scratch + ".err") }
        let process = try start(arguments, in: directory, stdout: scratch + ".out", stderr: scratch + ".err", environment: environment)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, reason: process.terminationReason,
                      stdout: (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? "")
    }
}

/// A temporary Luat project: `luat.toml`, a routes folder, its SQLite store at
/// `.luat/data/kv.db`. Removed by `remove()`.
struct TestProject {
    let root: String

    init(routes: [String: String] = [:], files: [String: String] = [:]) throws {
        root = NSTemporaryDirectory() + "luat-reliability-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/src/routes", withIntermediateDirectories: true)
        try write("luat.toml", """
            [routing]
            routes_dir = "src/routes"
            lib_dir = "src/lib"
            data_dir = ".luat/data"
            """)
        for (path, text) in routes { try write("src/routes/" + path, text) }
        for (path, text) in files { try write(path, text) }
    }

    var database: String { root + "/.luat/data/kv.db" }

    func path(_ relative: String) -> String { root + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ relative: String) -> String { (try? String(contentsOfFile: path(relative), encoding: .utf8)) ?? "" }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// One summary line per figure the suite produces, for the closing note and CI logs:
/// `reliability figure: NAME = VALUE (details)`.
func reportFigure(_ name: String, _ value: Int, _ details: String = "") {
    print("reliability figure: \(name) = \(value)" + (details.isEmpty ? "" : " (\(details))"))
}
