import CSQLite
import Foundation
import KVCore
import KVSQLite
import Testing

@Suite("SQLite storage: files, persistence, schema, sharing")
struct SQLiteStorageTests {
    @Test func createsParentFoldersAndTheFileAtDataDirKvDb() throws {
        let folder = TemporaryFolder()
        let dataDir = (folder.path as NSString).appendingPathComponent("nested/.luat/data")
        let store = KVStore(storage: try SQLiteStorage(dataDirectory: dataDir), clock: SystemClock())
        try store.namespace("n").put("k", "v")
        #expect(FileManager.default.fileExists(atPath: dataDir + "/kv.db"))
    }

    @Test func dataSurvivesClosingAndReopening() throws {
        let folder = TemporaryFolder()
        let clock = ManualClock(seconds: 1_700_000_000)
        let binary: [UInt8] = [0, 0xFF, 0, 0x80, 0x41]
        do {
            let store = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
            let kv = try store.namespace("persist")
            try kv.put("text", "hello")
            try kv.put("bin", binary, PutOptions(expirationTtl: 600, metadata: #"{"v":1}"#))
        } // store and its connections released here
        let reopened = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
        let kv = try reopened.namespace("persist")
        #expect(try kv.get("text")?.text == "hello")
        let entry = try #require(try kv.getWithMetadata("bin"))
        #expect(entry.value == binary)
        #expect(entry.expiration == 1_700_000_600)
        #expect(entry.metadata == #"{"v":1}"#)
    }

    @Test func twoStoresOnOneFileSeeEachOthersWrites() throws {
        // Two independent SQLiteStorage objects lock the file exactly as two processes do.
        let folder = TemporaryFolder()
        let clock = ManualClock(seconds: 1_700_000_000)
        let first = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
        let second = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            let store = which == 0 ? first : second
            do {
                let kv = try store.namespace("shared")
                for i in 0..<1000 { try kv.put("s\(which):\(i)", "v") }
            } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        #expect(try first.namespace("shared").list().keys.count == 1000)
        #expect(try second.namespace("shared").list(ListOptions(cursor: first.namespace("shared").list().cursor)).keys.count == 1000)
        try first.namespace("shared").put("late", "from first")
        #expect(try second.namespace("shared").get("late")?.text == "from first")
    }

    @Test func usesWALAndRecordsTheSchemaVersion() throws {
        let folder = TemporaryFolder()
        _ = try SQLiteStorage(dataDirectory: folder.path)
        let db = try RawDatabase(path: folder.path + "/kv.db")
        #expect(try db.text("PRAGMA journal_mode") == "wal")
        #expect(try db.text("PRAGMA user_version") == "1")
    }

    @Test func refusesAFileFromANewerRelease() throws {
        let folder = TemporaryFolder()
        _ = try SQLiteStorage(dataDirectory: folder.path)
        try RawDatabase(path: folder.path + "/kv.db").execute("PRAGMA user_version = 99")
        #expect {
            _ = try SQLiteStorage(dataDirectory: folder.path)
        } throws: { error in
            (error as? KVError)?.message.contains("schema version 99, newer than this luat understands (1)") == true
        }
    }

    /// Issue 10, item 2: a damaged (negative) schema version was an array index out of range.
    @Test(arguments: [-5, -1, Int(Int32.min)])
    func refusesANegativeSchemaVersionNamingTheFile(version: Int) throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        _ = try SQLiteStorage(path: path)
        try RawDatabase(path: path).execute("PRAGMA user_version = \(version)")
        #expect {
            _ = try SQLiteStorage(path: path)
        } throws: { error in
            guard let error = error as? KVError else { return false }
            return error.kind == .storage && error.message.contains(path) && error.message.contains("schema version \(version),")
        }
        // Nothing was written: the version is as it was.
        #expect(try RawDatabase(path: path).text("PRAGMA user_version") == String(version))
    }

    @Test func reportsAnUnusableFileClearly() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        try Data("this is not a database, just text that is long enough to look like a header".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteStorage(path: path)
        } throws: { error in
            guard let error = error as? KVError else { return false }
            return error.kind == .storage && error.message.contains(path)
        }
    }
}

/// Plain sqlite3 access to inspect a file the storage wrote.
final class RawDatabase {
    let db: OpaquePointer
    init(path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else { throw KVError.storage("open failed") }
        db = handle
    }
    deinit { sqlite3_close(db) }
    func execute(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw KVError.storage(String(cString: sqlite3_errmsg(db))) }
    }
    func text(_ sql: String) throws -> String? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw KVError.storage("prepare failed") }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return nil }
        return String(cString: text)
    }
}
