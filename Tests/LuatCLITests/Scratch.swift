import Foundation
import KVCore
import KVSQLite

/// A temporary project folder for one test: a `luat.toml`-less root whose store is the
/// default `<root>/.luat/data/kv.db`. Removed when the test ends (`defer { scratch.remove() }`).
struct Scratch {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("luat-kv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// Runs `luat kv <arguments>` in the root folder.
    func kv(_ arguments: [String], stdin: Data? = nil) throws -> Run {
        let result = try runLuat(["kv"] + arguments, in: root, stdin: stdin)
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// The project's store opened in this process, e.g. to seed data or check it.
    /// A clock in the past seeds entries that are already expired.
    func store(dataDir: String = ".luat/data", clock: any KVClock = SystemClock()) throws -> KVStore {
        KVStore(storage: try SQLiteStorage(dataDirectory: path(dataDir)), clock: clock)
    }

    func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(relative)))
    }

    func read(_ relative: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(relative))) }
}

struct Run {
    let status: Int32
    let stdout: Data
    let stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// A clock for seeding entries that expired long ago (1970, plus a bit).
func longAgo() -> ManualClock { ManualClock(seconds: 1_000) }

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
