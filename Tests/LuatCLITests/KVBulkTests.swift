import Foundation
import KVCore
import Testing

/// `luat kv export` and `luat kv import` in the `wrangler kv bulk put` format.
@Suite("luat kv export and import")
struct KVBulkTests {
    /// Values that must survive a round trip byte for byte.
    static let binary: [UInt8] = [0x00, 0xFF, 0xFE, 0x41, 0x00, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x0A]

    static func seedVariety(_ s: Scratch) throws {
        let ns = try s.store().namespace("app")
        try ns.put("binary", binary, PutOptions(metadata: #"{"kind":"bytes"}"#))
        try ns.put("text", "plain text")
        try ns.put("empty", [])
        try ns.put("json-ish", "quote \" backslash \\ newline \n tab \t nul \u{0} end")
        try ns.put("ключ/日本語/🙂", "unicode ✓")
        try ns.put("expiring", "soon", PutOptions(expiration: 4_000_000_000))
        try ns.put("ttl", "later", PutOptions(expirationTtl: 86_400, metadata: #"{"big":12345678901234567,"f":0.1,"nested":{"z":[true,null,"x"],"a":-1}}"#))
        try ns.put("meta-string", "v", PutOptions(metadata: #""just a string""#))
    }

    @Test func exportThenImportIntoAnEmptyStoreGivesIdenticalEntries() throws {
        let a = try Scratch(); defer { a.remove() }
        let b = try Scratch(); defer { b.remove() }
        try Self.seedVariety(a)

        let export = try a.kv(["export", "app", "-o", "backup.json"])
        #expect(export.status == 0)
        #expect(export.stdout.isEmpty)
        #expect(export.stderr == "Exported 8 keys from namespace \"app\" to backup.json.\n")
        try FileManager.default.copyItem(atPath: a.path("backup.json"), toPath: b.path("backup.json"))

        let importRun = try b.kv(["import", "app", "backup.json"])
        #expect(importRun.status == 0, "\(importRun.stderr)")
        #expect(importRun.text == "Imported 8 keys into namespace \"app\".\n")

        let source = try a.store().namespace("app")
        let copy = try b.store().namespace("app")
        let keys = try source.list().keys
        #expect(keys.count == 8)
        #expect(try copy.list().keys == keys) // names, expirations and metadata
        for key in keys {
            let original = try #require(try source.getWithMetadata(key.name))
            #expect(try copy.getWithMetadata(key.name) == original, "\(key.name)")
        }
        #expect(try copy.get("binary") == Self.binary)

        // Exporting the copy gives the same file.
        #expect(try b.kv(["export", "app"]).stdout == (try a.read("backup.json")))
    }

    @Test func exportWritesOneEntryPerLineToStandardOutput() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        try ns.put("a", "1", PutOptions(expiration: 4_000_000_000, metadata: #"{"m":1}"#))
        try ns.put("b", [0xFF])
        try ns.put("other", "x")
        let run = try s.kv(["export", "n", "--prefix", "a"])
        #expect(run.status == 0)
        #expect(run.text == "[\n" + #"{"key":"a","value":"1","expiration":4000000000,"metadata":{"m":1}}"# + "\n]\n")
        #expect(run.stderr == "Exported 1 key from namespace \"n\".\n")

        let all = try s.kv(["export", "n"])
        #expect(all.text == """
            [
            {"key":"a","value":"1","expiration":4000000000,"metadata":{"m":1}},
            {"key":"b","value":"/w==","base64":true},
            {"key":"other","value":"x"}
            ]

            """)
        #expect(try s.kv(["export", "empty"]).text == "[]\n")
    }

    @Test func importReadsFilesWrittenForWrangler() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.write("bulk.json", """
            [
              { "key": "plain", "value": "hello" },
              { "key": "bytes", "value": "AP8=", "base64": true },
              { "key": "ttl", "value": "t", "expiration_ttl": 3600, "metadata": { "b": 2, "a": 1 } },
              { "key": "abs", "value": "e", "expiration": 4000000000, "base64": false, "metadata": null },
              { "key": "float-exp", "value": "f", "expiration": 4.0e9, "expiration_ttl": null, "extra": "ignored" }
            ]
            """)
        let before = SystemClock().nowSeconds()
        let run = try s.kv(["import", "n", "bulk.json"])
        let after = SystemClock().nowSeconds()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.text == "Imported 5 keys into namespace \"n\".\n")

        let ns = try s.store().namespace("n")
        #expect(try ns.get("plain")?.text == "hello")
        #expect(try ns.get("bytes") == [0x00, 0xFF])
        let ttl = try #require(try ns.getWithMetadata("ttl"))
        #expect(ttl.metadata == #"{"b":2,"a":1}"#)
        #expect(ttl.expiration.map { $0 >= before + 3600 && $0 <= after + 3600 } == true)
        #expect(try ns.getWithMetadata("abs") == KVEntry(value: Array("e".utf8), expiration: 4_000_000_000, metadata: nil))
        #expect(try ns.getWithMetadata("float-exp")?.expiration == 4_000_000_000)
    }

    @Test func importFromStandardInputKeepsExistingKeys() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.store().namespace("n").put("kept", "old")
        let run = try s.kv(["import", "n", "-"], stdin: Data(#"[{"key":"new","value":"v"}]"#.utf8))
        #expect(run.status == 0)
        #expect(try s.store().namespace("n").list().keys.map(\.name) == ["kept", "new"])
    }

    /// Issue 10, item 8: the same key twice is one key stored (the last entry), and said so.
    @Test func importOfARepeatedKeyCountsKeysStoredAndKeepsTheLastEntry() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.write("dup.json", #"[{"key":"k","value":"first"},{"key":"other","value":"o"},{"key":"k","value":"last"}]"#)
        let run = try s.kv(["import", "n", "dup.json"])
        #expect(run.status == 0)
        #expect(run.text == "Imported 2 keys into namespace \"n\". 1 entry repeated a key given earlier in the file; the last entry for each key was kept.\n")
        #expect(try s.store().namespace("n").get("k") == Array("last".utf8))
        #expect(try s.store().namespace("n").list().keys.map(\.name) == ["k", "other"])
    }

    @Test func importSkipsEntriesWhoseExpirationHasPassed() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.write("old.json", #"[{"key":"dead","value":"x","expiration":1000},{"key":"alive","value":"y"},{"key":"ttl-wins","value":"z","expiration":1000,"expiration_ttl":60}]"#)
        let run = try s.kv(["import", "n", "old.json"])
        #expect(run.status == 0)
        #expect(run.text == "Imported 2 keys into namespace \"n\". Skipped 1 whose expiration had passed.\n")
        #expect(try s.store().namespace("n").list().keys.map(\.name) == ["alive", "ttl-wins"])
    }

    static let badEntries: [(String, String)] = [
        (#"{"key":"\#(String(repeating: "k", count: 513))","value":"v"}"#, "key exceeds 512 bytes (got 513)"),
        (#"{"key":"","value":"v"}"#, "key must not be empty"),
        (#"{"value":"v"}"#, #""key" is missing"#),
        (#"{"key":"k"}"#, #""value" is missing"#),
        (#"{"key":"k","value":42}"#, #""value" must be a string"#),
        (#"{"key":"k","value":"***","base64":true}"#, #""value" is not valid base64"#),
        (#"{"key":"k","value":"v","base64":"yes"}"#, #""base64" must be true or false"#),
        (#"{"key":"k","value":"v","expiration_ttl":0}"#, "expiration_ttl must be a positive integer number of seconds (got 0)"),
        (#"{"key":"k","value":"v","expiration":-5}"#, "expiration must be a positive integer number of seconds (got -5)"),
        (#"{"key":"k","value":"v","expiration":"tomorrow"}"#, #""expiration" must be a number of seconds"#),
        (#"{"key":"k","value":"v","metadata":"\#(String(repeating: "m", count: 1100))"}"#, "metadata exceeds 1024 bytes when serialised (got 1102)"),
        (#"["k","v"]"#, #"expected an object with "key" and "value""#),
    ]

    @Test(arguments: badEntries)
    func anImportWithOneBadEntryAmongAThousandChangesNothing(_ bad: String, _ message: String) throws {
        let s = try Scratch(); defer { s.remove() }
        try s.store().namespace("n").put("k0500", "old")
        var lines: [String] = []
        for i in 0..<1_000 {
            lines.append(i == 637 ? bad : #"{"key":"k\#(String(format: "%04d", i))","value":"new"}"#)
        }
        try s.write("bulk.json", "[\n" + lines.joined(separator: ",\n") + "\n]\n")

        let run = try s.kv(["import", "n", "bulk.json"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: bulk.json: entry 637: \(message); nothing was imported\n")
        let ns = try s.store().namespace("n")
        #expect(try ns.list().keys.map(\.name) == ["k0500"])
        #expect(try ns.get("k0500")?.text == "old")
    }

    @Test func importOfMalformedJSONSaysWhere() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.write("broken.json", "[\n  {\"key\": \"a\", \"value\": \"b\"},\n  {\"key\": oops}\n]")
        let run = try s.kv(["import", "n", "broken.json"])
        #expect(run.status == 1)
        #expect(run.stderr == "error: broken.json: not valid JSON: unexpected character 'o' at byte 42 (line 3, column 11); nothing was imported\n")

        try s.write("object.json", #"{"key":"a","value":"b"}"#)
        let object = try s.kv(["import", "n", "object.json"])
        #expect(object.status == 1)
        #expect(object.stderr.contains("expected a JSON array"))

        let missing = try s.kv(["import", "n", "nope.json"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: cannot read nope.json\n")
    }

    /// Not a benchmark with a threshold: prints the rates for the report.
    @Test func exportAndImportTwentyThousandKeys() throws {
        let a = try Scratch(); defer { a.remove() }
        let count = 20_000
        let ns = try a.store().namespace("big")
        var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
        for i in 0..<count {
            batch.append((Array("key:\(i)".utf8), Array(repeating: UInt8(97 + i % 26), count: 100), PutOptions(metadata: #"{"i":\#(i)}"#)))
        }
        try ns.putMany(batch)

        var start = Date()
        let export = try a.kv(["export", "big", "-o", "big.json"])
        let exportSeconds = Date().timeIntervalSince(start)
        #expect(export.status == 0)

        start = Date()
        let importRun = try a.kv(["import", "copy", "big.json"])
        let importSeconds = Date().timeIntervalSince(start)
        #expect(importRun.status == 0)
        #expect(try a.store().namespaces().map(\.keyCount) == [count, count])
        print("export: \(count) keys in \(exportSeconds)s (\(Int(Double(count) / exportSeconds)) keys/s); import: \(importSeconds)s (\(Int(Double(count) / importSeconds)) keys/s)")
    }
}
