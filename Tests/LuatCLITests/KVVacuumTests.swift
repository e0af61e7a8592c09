import Foundation
import KVCore
import KVSQLite
import Testing

/// `luat kv vacuum` while another process writes, and the upgrade of a layout-1 kv.db.
@Suite("luat kv vacuum and the kv.db upgrade")
struct KVVacuumTests {
    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { $0 + ((((try? FileManager.default.attributesOfItem(atPath: path + $1))?[.size]) as? Int) ?? 0) }
    }

    @Test func vacuumShrinksTheFileWhileAnotherProcessWrites() throws {
        let s = try Scratch(); defer { s.remove() }
        let db = s.path(".luat/data/kv.db")
        do {
            let kv = try s.store().namespace("big")
            let value = [UInt8](repeating: 0x61, count: 4_000)
            try kv.putMany((0..<2_000).map { (key: Array("k\($0)".utf8), value: value, options: PutOptions()) })
            _ = try kv.deleteMany(keyBytes: (10..<2_000).map { Array("k\($0)".utf8) })
        }
        let before = Self.fileBytes(db)
        #expect(before > 2_000 * 4_000)
        let puts = try KVConcurrencyTests.WriterLoop(s, name: "puts", body: #""$LUAT" kv put load "put:$i" "value $i" || exit 1"#)
        puts.waitForFirstRound()
        let run = try s.kv(["vacuum"])
        try s.write("stop", "")
        let loop = try puts.finish()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.text.hasPrefix("Vacuumed \(db): "), "\(run.text)")
        #expect(loop.status == 0 && loop.stderr == "", "\(loop.stderr)")
        #expect(Self.fileBytes(db) < before / 10, "\(before) → \(Self.fileBytes(db)) bytes")
        let store = try s.store()
        for i in 0..<loop.rounds { #expect(try store.namespace("load").get("put:\(i)")?.text == "value \(i)") }
        for i in 0..<10 { #expect(try store.namespace("big").get("k\(i)")?.count == 4_000) }
    }

    @Test func aLayout1FileIsUpgradedByTheFirstCommandThatOpensIt() throws {
        let s = try Scratch(); defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.path(".luat/data"), withIntermediateDirectories: true)
        // The layout-1 DDL and rows, as the previous release wrote them.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let rows = (0..<3_000).map { i in
            "(1, CAST('key\(String(format: "%05d", i))' AS BLOB), zeroblob(\(i % 2 == 0 ? 2_000 : 20)), \(i % 3 == 0 ? "4102444800" : "NULL"), CAST('{\"i\":\(i)}' AS BLOB))"
        }.joined(separator: ",\n")
        try s.write("v1.sql", """
            PRAGMA journal_mode = WAL;
            BEGIN;
            CREATE TABLE namespaces (id INTEGER PRIMARY KEY, name BLOB NOT NULL UNIQUE);
            CREATE TABLE entries (
                namespace INTEGER NOT NULL REFERENCES namespaces(id), key BLOB NOT NULL, value BLOB NOT NULL,
                expiration INTEGER, metadata BLOB, PRIMARY KEY (namespace, key)) WITHOUT ROWID;
            CREATE INDEX entries_by_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
            PRAGMA user_version = 1;
            INSERT INTO namespaces(name) VALUES (CAST('old' AS BLOB));
            INSERT INTO entries VALUES \(rows);
            COMMIT;
            """)
        sqlite.arguments = ["sqlite3", s.path(".luat/data/kv.db"), ".read \(s.path("v1.sql"))"]
        sqlite.standardOutput = FileHandle.nullDevice
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0, "sqlite3 (the Debian package) is needed to write a layout-1 file")

        let listed = try s.kv(["list", "old", "--limit", "3", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stderr.contains("Upgraded kv.db to the new storage layout (3,000 keys)"), "\(listed.stderr)")
        #expect(listed.text.contains(#""name":"key00000","expiration":4102444800"#), "\(listed.text)")
        #expect(listed.text.contains(#"{"name":"key00001","metadata":{"i":1}}"#), "\(listed.text)")
        let value = try s.kv(["get", "old", "key00002"])
        #expect(value.stdout == Data(count: 2_000))
        #expect(try s.kv(["get", "old", "key00001"]).stdout == Data(count: 20))
        let again = try s.kv(["namespaces", "--json"])
        #expect(again.stderr == "")
        #expect(again.text.contains(#""key_count":3000"#), "\(again.text)")
    }
}
