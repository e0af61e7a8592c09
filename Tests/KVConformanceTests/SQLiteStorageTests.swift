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

    /// Each writer hands out versions from a block it reserved in the file; a writer whose
    /// file another connection committed to since must start after that connection's block,
    /// so one key's versions still grow in commit order, and a reopened file goes on above.
    @Test func versionsGrowInCommitOrderAcrossTwoWritersAndAReopen() throws {
        let folder = TemporaryFolder()
        let clock = ManualClock(seconds: 1_700_000_000)
        var seen: [KVVersion] = []
        do {
            let first = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
            let second = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
            let a = try first.namespace("v"), b = try second.namespace("v")
            for round in 0..<20 {
                // Uneven runs, so that each writer's block position differs from the other's.
                for i in 0..<(round % 3 + 1) {
                    try a.put("k", "a\(round).\(i)")
                    seen.append(try #require(try a.getWithMetadata("k")?.version))
                }
                try b.put("k", "b\(round)")
                seen.append(try #require(try b.getWithMetadata("k")?.version))
                try b.put("other\(round)", "x")
                _ = try first.atomic().sum(a, "n", 1).commit()
                seen.append(try #require(try a.getWithMetadata("n")?.version))
            }
        }
        let reopened = KVStore(storage: try SQLiteStorage(dataDirectory: folder.path), clock: clock)
        let kv = try reopened.namespace("v")
        try kv.put("k", "after")
        seen.append(try #require(try kv.getWithMetadata("k")?.version))
        for (earlier, later) in zip(seen, seen.dropFirst()) {
            #expect(earlier < later, "versions in commit order: \(earlier) then \(later)")
        }
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
        #expect(try db.text("PRAGMA user_version") == "3")
    }

    /// Files of both releases before versions (schema version 1, and version 2 with large
    /// values in `blobs`) open, migrate, keep their data (version 0 until their next write),
    /// and get versions from then on.
    @Test(arguments: [1, 2])
    func aFileWithoutVersionsOpensAndMigrates(_ fileVersion: Int) throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let large = [UInt8](repeating: 7, count: 1_000)
        try SQLiteLayoutTests.writeVersion1File(path: path, entries: [
            ("old", Array("k".utf8), StoredEntry(value: Array("41".utf8), expiration: nil, metadata: Array(#"{"a":1}"#.utf8))),
            ("old", Array("big".utf8), StoredEntry(value: large, expiration: nil, metadata: nil)),
        ])
        if fileVersion == 2 {
            // What the version-2 release's migration leaves: the same data, large values in `blobs`.
            try RawDatabase(path: path).execute("""
                BEGIN;
                CREATE TABLE blobs (id INTEGER PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE entries_v2 (
                    namespace INTEGER NOT NULL REFERENCES namespaces(id), key BLOB NOT NULL, expiration INTEGER,
                    metadata BLOB, value BLOB, value_id INTEGER, PRIMARY KEY (namespace, key)) WITHOUT ROWID;
                INSERT INTO blobs(id, value) SELECT 1, value FROM entries WHERE length(value) > 128;
                INSERT INTO entries_v2 SELECT namespace, key, expiration, metadata,
                    CASE WHEN length(value) > 128 THEN NULL ELSE value END, CASE WHEN length(value) > 128 THEN 1 END FROM entries;
                DROP TABLE entries;
                ALTER TABLE entries_v2 RENAME TO entries;
                CREATE INDEX entries_by_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
                CREATE TRIGGER entries_blob_deleted AFTER DELETE ON entries WHEN old.value_id IS NOT NULL
                    BEGIN DELETE FROM blobs WHERE id = old.value_id; END;
                CREATE TRIGGER entries_blob_replaced AFTER UPDATE OF value_id ON entries
                    WHEN old.value_id IS NOT NULL AND old.value_id IS NOT new.value_id
                    BEGIN DELETE FROM blobs WHERE id = old.value_id; END;
                PRAGMA user_version = 2;
                COMMIT;
                """)
        }
        let store = KVStore(storage: try SQLiteStorage(path: path), clock: ManualClock(seconds: 1_700_000_000))
        let kv = try store.namespace("old")
        let old = try #require(try kv.getWithMetadata("k"))
        #expect(old == KVEntry(value: Array("41".utf8), expiration: nil, metadata: #"{"a":1}"#))
        #expect(old.version?.description == "0000000000000000")
        #expect(try kv.get("big") == large)
        #expect(try store.atomic().check(kv, "k", old.version).sum(kv, "k", 1).put(kv, "big", "small").commit() != nil)
        #expect(try kv.get("k")?.text == "42")
        #expect(try kv.get("big")?.text == "small")
        #expect(try kv.getWithMetadata("k")?.version ?? KVVersion(rawValue: 0) > old.version!)
        let db = try RawDatabase(path: path)
        #expect(try db.text("PRAGMA user_version") == "3")
        #expect(try db.text("SELECT count(*) FROM blobs") == "0")
    }

    @Test func refusesAFileFromANewerRelease() throws {
        let folder = TemporaryFolder()
        _ = try SQLiteStorage(dataDirectory: folder.path)
        try RawDatabase(path: folder.path + "/kv.db").execute("PRAGMA user_version = 99")
        #expect {
            _ = try SQLiteStorage(dataDirectory: folder.path)
        } throws: { error in
            (error as? KVError)?.message.contains("schema version 99, newer than this luat understands (3)") == true
                && (error as? KVError)?.storageFailure?.reason == .schemaTooNew
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
                && error.storageFailure == StorageFailure(.corrupt, code: "SQLITE_NOTADB (26)")
        }
    }

    @Test func aFolderThatCannotBeMadeIsUnavailable() throws {
        let folder = TemporaryFolder()
        // A file where the data folder should be.
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path + "/file"))
        #expect {
            _ = try SQLiteStorage(dataDirectory: folder.path + "/file/data")
        } throws: { error in
            guard let error = error as? KVError else { return false }
            return error.kind == .storage && error.storageFailure?.reason == .unavailable
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
