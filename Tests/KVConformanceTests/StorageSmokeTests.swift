import KVCore
import KVSQLite
import Testing
import Foundation

// The conformance suite's folder was empty on this branch, which SwiftPM refuses; this keeps
// the declared target building with one real check of both storages.
@Suite struct StorageSmokeTests {
    @Test(arguments: ["memory", "sqlite"])
    func putGetListDelete(_ backend: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kv-smoke-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage: any KVStorage = backend == "memory" ? MemoryStorage() : try SQLiteStorage(dataDirectory: dir)
        let store = KVStore(storage: storage, clock: ManualClock(seconds: 1_000))
        let ns = try store.namespace("smoke")
        try ns.put("a", "1")
        #expect(try ns.get("a") == Array("1".utf8))
        #expect(try ns.list().keys.map(\.name) == ["a"])
        try ns.delete("a")
        #expect(try ns.get("a") == nil)
    }
}
