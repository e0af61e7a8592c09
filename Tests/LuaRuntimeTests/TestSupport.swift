import Foundation
import KVCore
import KVSQLite
import LuaHost
import LuaRuntime
import LuatProject
import Testing

/// The two storages every Lua test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite
    var testDescription: String { rawValue }
}

/// Collects what Lua's `print` writes.
final class Output: @unchecked Sendable {
    var bytes: [UInt8] = []
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// A temporary project on disk (luat.toml, src/lib, src/routes), a store on the chosen
/// backend with a manual clock set to the real time (the spec's samples use `os.time()`),
/// and a runtime over them.
final class LuaHarness {
    let root: String
    let store: KVStore
    let clock: ManualClock
    let output = Output()
    let runtime: LuaRuntime
    let project: LuatProject

    init(_ backend: Backend, files: [String: String] = [:], toml: String = "", limits: LuaLimits = .unlimited) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("luat-lua-\(UUID().uuidString)").path
        root = (base as NSString).resolvingSymlinksInPath
        try FileManager.default.createDirectory(atPath: root + "/src/lib", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/src/routes", withIntermediateDirectories: true)
        try toml.write(toFile: root + "/luat.toml", atomically: true, encoding: .utf8)
        for (path, text) in files { try LuaHarness.write(text, to: root + "/" + path) }
        clock = ManualClock(seconds: Int64(Date().timeIntervalSince1970))
        switch backend {
        case .memory: store = KVStore(storage: MemoryStorage(), clock: clock)
        case .sqlite: store = KVStore(storage: try SQLiteStorage(dataDirectory: root + "/.luat/data"), clock: clock)
        }
        project = try LuatProject(root: root)
        let output = self.output
        runtime = try LuaRuntime(project: project, store: store, print: { output.bytes += $0 }, limits: limits)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs Lua source (as if it were the file `name` of the project) and returns its results.
    @discardableResult
    func run(_ source: String, name: String = "main.lua", arguments: [LuaValue] = []) throws -> [LuaValue] {
        try runtime.run(source: source, name: name, arguments: arguments)
    }

    /// The error message `source` raises (it must raise).
    func errorMessage(_ source: String) throws -> String? {
        let results = try run("local ok, err = pcall(function() \(source) end)\nif ok then return nil end\nreturn tostring(err)")
        return results.first?.stringValue
    }

    /// Names of the live keys of a namespace, read through Swift.
    func keys(_ namespace: String) throws -> [String] {
        try store.namespace(namespace).list().keys.map(\.name)
    }
}

/// Resident set size of this process in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
