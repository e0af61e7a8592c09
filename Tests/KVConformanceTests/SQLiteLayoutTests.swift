import CSQLite
import Foundation
import KVCore
import KVSQLite
import Testing

/// The version-2 layout (large values in `blobs`), the migration from version 1, and space
/// after deletes (`vacuum`).
@Suite("SQLite layout: migration from version 1, blobs, space after deletes")
struct SQLiteLayoutTests {
    /// Writes a file exactly as the version-1 release did: its DDL, its pragmas, its upsert.
    static func writeVersion1File(path: String, entries: [(namespace: String, key: [UInt8], entry: StoredEntry)]) throws {
        let db = try RawDatabase(path: path)
        try db.execute("PRAGMA journal_mode = WAL")
        try db.execute("""
            BEGIN;
            CREATE TABLE namespaces (
                id   INTEGER PRIMARY KEY,
                name BLOB NOT NULL UNIQUE
            );
            CREATE TABLE entries (
                namespace  INTEGER NOT NULL REFERENCES namespaces(id),
                key        BLOB NOT NULL,
                value      BLOB NOT NULL,
                expiration INTEGER,
                metadata   BLOB,
                PRIMARY KEY (namespace, key)
            ) WITHOUT ROWID;
            CREATE INDEX entries_by_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
            PRAGMA user_version = 1;
            """)
        for name in Set(entries.map(\.namespace)).sorted() {
            try db.run("INSERT OR IGNORE INTO namespaces(name) VALUES (?1)", [.blob(Array(name.utf8))])
        }
        for item in entries {
            try db.run("""
                INSERT INTO entries(namespace, key, value, expiration, metadata)
                VALUES ((SELECT id FROM namespaces WHERE name = ?1), ?2, ?3, ?4, ?5)
                ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value,
                    expiration = excluded.expiration, metadata = excluded.metadata
                """, [.blob(Array(item.namespace.utf8)), .blob(item.key), .blob(item.entry.value),
                      item.entry.expiration.map { .integer($0) } ?? .null, item.entry.metadata.map { .blob($0) } ?? .null])
        }
        try db.execute("COMMIT")
    }

    /// A mix of value sizes (empty, inline, at and over the inline limit, overflowing a page),
    /// binary bytes, with and without expiration and metadata, in two namespaces.
    static func sampleEntries(count: Int) -> [(namespace: String, key: [UInt8], entry: StoredEntry)] {
        let sizes = [0, 1, 10, 128, 129, 500, 1_000, 3_000, 20_000, 70_000]
        return (0..<count).map { i in
            let size = sizes[i % sizes.count]
            let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let key = Array("k/\(String(i * 7919 % 100_003, radix: 16))/\(i)".utf8) + [UInt8(i % 256)]
            let entry = StoredEntry(value: value,
                                    expiration: i % 3 == 0 ? 1_900_000_000 + Int64(i) : nil,
                                    metadata: i % 2 == 0 ? Array(#"{"i":\#(i)}"#.utf8) : nil)
            return (i % 4 == 0 ? "other" : "main", key, entry)
        }
    }

    /// Every entry read back exactly, and each namespace lists its keys in byte order.
    static func expectSameEntries(_ storage: SQLiteStorage, _ entries: [(namespace: String, key: [UInt8], entry: StoredEntry)]) throws {
        for name in Set(entries.map(\.namespace)) {
            let id = try storage.namespaceID(for: Array(name.utf8))
            let mine = entries.filter { $0.namespace == name }
            for item in mine {
                #expect(try storage.read(id, key: item.key) == item.entry)
            }
            let listed = try storage.scan(id, range: KeyRange(lower: [], lowerInclusive: true, upper: nil), limit: 100_000)
            #expect(listed.map(\.key) == mine.map(\.key).sorted { ByteOrder.less($0, $1) })
            #expect(listed.map(\.metadata) == mine.sorted { ByteOrder.less($0.key, $1.key) }.map(\.entry.metadata))
        }
    }

    @Test func aVersion1FileIsMigratedInPlaceWithEveryEntryIntact() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let entries = Self.sampleEntries(count: 2_500)
        try Self.writeVersion1File(path: path, entries: entries)
        let reports = Failures()
        let storage = try SQLiteStorage(path: path, migrationProgress: MigrationProgress { done, total in
            reports.add("\(done)/\(total)")
        })
        #expect(reports.all.first == "0/2500")
        #expect(reports.all.last == "2500/2500")
        #expect(reports.all.contains("1000/2500"))
        let db = try RawDatabase(path: path)
        #expect(try db.text("PRAGMA user_version") == "3")
        // Values over the inline limit left the key index.
        let large = entries.filter { $0.entry.value.count > 128 }.count
        #expect(try db.text("SELECT count(*) FROM blobs") == "\(large)")
        #expect(try db.text("SELECT count(*) FROM entries WHERE value_id IS NULL") == "\(entries.count - large)")
        try Self.expectSameEntries(storage, entries)
        // Expiration still drives purges (the index came back).
        #expect(try db.text("SELECT count(*) FROM sqlite_schema WHERE name = 'entries_by_expiration'") == "1")
        let expired = entries.filter { ($0.entry.expiration ?? .max) <= 1_900_000_999 }.count
        #expect(try storage.purgeExpired(asOf: 1_900_000_999) == expired)
        #expect(try db.text("SELECT count(*) FROM blobs") == "\(entries.filter { $0.entry.value.count > 128 && ($0.entry.expiration ?? .max) > 1_900_000_999 }.count)")
        // Reopening does not migrate again.
        let again = Failures()
        _ = try SQLiteStorage(path: path, migrationProgress: MigrationProgress { done, total in again.add("\(done)/\(total)") })
        #expect(again.all.isEmpty)
    }

    @Test func aMigrationThatFailsPartWayLeavesTheVersion1FileAsItWas() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let entries = Self.sampleEntries(count: 1_200)
        try Self.writeVersion1File(path: path, entries: entries)
        expectKVError(.storage, "injected failure") {
            _ = try SQLiteStorage(path: path, migrationProgress: MigrationProgress(failAfter: 700) { _, _ in })
        }
        let db = try RawDatabase(path: path)
        #expect(try db.text("PRAGMA user_version") == "1")
        #expect(try db.text("SELECT count(*) FROM entries") == "\(entries.count)")
        #expect(try db.text("SELECT count(*) FROM sqlite_schema WHERE name IN ('blobs', 'entries_v2')") == "0")
        #expect(try db.text("SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'value_id'") == "0")
        // The next open migrates it fully.
        let storage = try SQLiteStorage(path: path)
        #expect(try db.text("PRAGMA user_version") == "3")
        try Self.expectSameEntries(storage, entries)
    }

    @Test func newFilesUseSixteenKiBPagesAndIncrementalVacuum() throws {
        let folder = TemporaryFolder()
        let reports = Failures()
        _ = try SQLiteStorage(dataDirectory: folder.path, migrationProgress: MigrationProgress { done, total in reports.add("\(done)/\(total)") })
        #expect(reports.all.isEmpty) // a new file has nothing to upgrade
        let db = try RawDatabase(path: folder.path + "/kv.db")
        #expect(try db.text("PRAGMA page_size") == "16384")
        #expect(try db.text("PRAGMA auto_vacuum") == "2")
    }

    @Test func replacingAndDeletingLargeValuesLeavesNoBlobBehind() throws {
        let folder = TemporaryFolder()
        let storage = try SQLiteStorage(dataDirectory: folder.path)
        let db = try RawDatabase(path: folder.path + "/kv.db")
        let id = try storage.namespaceID(for: Array("n".utf8))
        let big = StoredEntry(value: [UInt8](repeating: 7, count: 5_000), expiration: nil, metadata: nil)
        let small = StoredEntry(value: Array("small".utf8), expiration: nil, metadata: Array("{}".utf8))
        try storage.write(id, key: Array("a".utf8), entry: big)
        try storage.write(id, key: Array("b".utf8), entry: big)
        #expect(try db.text("SELECT count(*) FROM blobs") == "2")
        try storage.write(id, key: Array("a".utf8), entry: small) // large → inline
        #expect(try db.text("SELECT count(*) FROM blobs") == "1")
        #expect(try storage.read(id, key: Array("a".utf8)) == small)
        let bigger = StoredEntry(value: [UInt8](repeating: 9, count: 9_000), expiration: 5, metadata: nil)
        try storage.write(id, key: Array("b".utf8), entry: bigger) // large → large
        #expect(try db.text("SELECT count(*) FROM blobs") == "1")
        #expect(try storage.read(id, key: Array("b".utf8)) == bigger)
        try storage.writeBatch(id, [(Array("c".utf8), big), (Array("d".utf8), big), (Array("c".utf8), bigger)])
        #expect(try db.text("SELECT count(*) FROM blobs") == "3")
        #expect(try storage.read(id, key: Array("c".utf8)) == bigger)
        #expect(try storage.delete(id, key: Array("d".utf8)))
        #expect(try storage.purgeExpired(asOf: 10) == 2) // b and c
        #expect(try storage.deleteBatch(id, keys: [Array("a".utf8)]) == 1)
        #expect(try db.text("SELECT count(*) FROM blobs") == "0")
        #expect(try db.text("SELECT count(*) FROM entries") == "0")
    }

    @Test func deletedSpaceIsReusedAndVacuumGivesItBackWhileAnotherWriterRuns() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let storage = try SQLiteStorage(path: path)
        let id = try storage.namespaceID(for: Array("n".utf8))
        let value = [UInt8](repeating: 1, count: 3_000)
        func fill(_ tag: String) throws {
            for chunk in 0..<10 {
                try storage.writeBatch(id, (0..<200).map { (Array("\(tag)/\(chunk)/\($0)".utf8), StoredEntry(value: value, expiration: nil, metadata: nil)) })
            }
        }
        func fileBytes() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? -1
        }
        try fill("first")
        _ = try storage.vacuum() // checkpoints: the file holds the data
        let full = fileBytes()
        #expect(full > 2_000 * 3_000)
        // Delete nearly everything, write as much again: freed pages are reused.
        let keys = try storage.scan(id, range: KeyRange(lower: [], lowerInclusive: true, upper: nil), limit: 5_000).map(\.key)
        #expect(try storage.deleteBatch(id, keys: Array(keys.dropFirst(10))) == keys.count - 10)
        try fill("second")
        _ = try storage.vacuum()
        #expect(fileBytes() < full + full / 10, "file grew from \(full) to \(fileBytes()) bytes")
        // Delete again, then vacuum while a second store (as another process would) keeps writing.
        let keys2 = try storage.scan(id, range: KeyRange(lower: [], lowerInclusive: true, upper: nil), limit: 5_000).map(\.key)
        #expect(try storage.deleteBatch(id, keys: keys2) == keys2.count)
        let other = try SQLiteStorage(path: path)
        let otherID = try other.namespaceID(for: Array("w".utf8))
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            do {
                if which == 0 {
                    for i in 0..<300 { try other.write(otherID, key: Array("w\(i)".utf8), entry: StoredEntry(value: Array("v\(i)".utf8), expiration: nil, metadata: nil)) }
                } else {
                    #expect(try storage.vacuum() > 0)
                }
            } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        _ = try storage.vacuum()
        #expect(fileBytes() < full / 5, "vacuum left \(fileBytes()) of \(full) bytes")
        for i in 0..<300 { #expect(try storage.read(otherID, key: Array("w\(i)".utf8))?.value == Array("v\(i)".utf8)) }
    }

    @Test func aLargeBatchIntoAnEmptyStoreIsBulkLoadedWithEveryEntryIntact() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let storage = try SQLiteStorage(path: path)
        let entries = Self.sampleEntries(count: 6_000) // 4,500 in "main", 1,500 in "other"
        for name in ["main", "other"] { // "main" into the empty store, then "other" beside it
            let id = try storage.namespaceID(for: Array(name.utf8))
            try storage.writeBatch(id, entries.filter { $0.namespace == name }.map { ($0.key, $0.entry) })
        }
        try Self.expectSameEntries(storage, entries)
        let db = try RawDatabase(path: path)
        #expect(try db.text("PRAGMA integrity_check") == "ok") // the expiration index matches too
        #expect(try db.text("PRAGMA freelist_count") == "0") // the rebuild's freed pages were given back
        #expect(try db.text("SELECT count(DISTINCT version) FROM entries") == "2") // one per batch
        #expect(try db.text("SELECT count(*) FROM blobs") == "\(entries.filter { $0.entry.value.count > 128 }.count)")
        #expect(try storage.purgeExpired(asOf: 2_000_000_000) == entries.filter { $0.entry.expiration != nil }.count)
    }

    @Test func aBulkLoadedKeyIndexTakesFewerPagesThanRowByRowInserts() throws {
        // 5,000 entries of 100-byte keys and 10-byte values, in key order: the same batch into
        // an empty store (rebuilt) and into a store holding one entry (inserted row by row).
        let batch = (0..<5_000).map { i in
            (key: Array(String("user/\(1_000_000 + i)/".padding(toLength: 100, withPad: "k", startingAt: 0)).utf8),
             entry: StoredEntry(value: Array("value\(10_000 + i)".prefix(10).utf8), expiration: nil, metadata: Array(#"{"n":\#(i)}"#.utf8)))
        }
        func pages(preexisting: Bool) throws -> Int {
            let folder = TemporaryFolder()
            let storage = try SQLiteStorage(dataDirectory: folder.path)
            let id = try storage.namespaceID(for: Array("n".utf8))
            if preexisting {
                try storage.write(id, key: Array("~last".utf8), entry: StoredEntry(value: [1], expiration: nil, metadata: nil))
            }
            try storage.writeBatch(id, batch)
            #expect(try storage.read(id, key: batch[4_321].key) == batch[4_321].entry)
            let db = try RawDatabase(path: folder.path + "/kv.db")
            #expect(try db.text("PRAGMA freelist_count") == "0")
            return try #require(try db.text("PRAGMA page_count").flatMap { Int($0) })
        }
        let bulk = try pages(preexisting: false)
        let rowByRow = try pages(preexisting: true)
        // Row-by-row leaves are ~7/8 full: ~48 key-index pages against ~43.
        #expect(bulk + 4 <= rowByRow, "bulk load: \(bulk) pages, row by row: \(rowByRow)")
    }

    @Test func vacuumGivesBackTheOldTablesPagesOfAMigratedVersion1File() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let entries = Self.sampleEntries(count: 300)
        try Self.writeVersion1File(path: path, entries: entries)
        let storage = try SQLiteStorage(path: path)
        let db = try RawDatabase(path: path)
        #expect(try db.text("PRAGMA auto_vacuum") == "0")
        let before = try #require(try db.text("PRAGMA page_count").flatMap { Int($0) })
        #expect(try db.text("PRAGMA freelist_count") != "0") // the old table's pages
        #expect(try storage.vacuum() > 0)
        #expect(try db.text("PRAGMA freelist_count") == "0")
        #expect(try #require(try db.text("PRAGMA page_count").flatMap { Int($0) }) < before)
        try Self.expectSameEntries(storage, entries)
    }
}

enum RawValue { case blob([UInt8]), integer(Int64), null }

extension RawDatabase {
    /// Runs one statement with bound values.
    func run(_ sql: String, _ values: [RawValue]) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw KVError.storage(String(cString: sqlite3_errmsg(db))) }
        defer { sqlite3_finalize(statement) }
        for (index, value) in values.enumerated() {
            let i = Int32(index + 1)
            switch value {
            case let .blob(bytes): _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, i, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), csqlite_transient()) }
            case let .integer(n): sqlite3_bind_int64(statement, i, n)
            case .null: sqlite3_bind_null(statement, i)
            }
        }
        guard sqlite3_step(statement) == SQLITE_DONE else { throw KVError.storage(String(cString: sqlite3_errmsg(db))) }
    }
}
