import Foundation
import KVCore
import Testing

/// Each `luat kv` command run as a real process on a real SQLite file: output and exit status.
@Suite("luat kv commands")
struct KVCommandTests {
    @Test func namespacesPrintsKeyCountsAsJSONWhenNotOnATerminal() throws {
        let s = try Scratch(); defer { s.remove() }
        let empty = try s.kv(["namespaces"])
        #expect(empty.status == 0)
        #expect(empty.text == "[]\n")

        do {
            let store = try s.store()
            try store.namespace("users").put("a", "1")
            try store.namespace("users").put("b", "2")
            try store.namespace("posts").put("p", "3")
        }
        // A namespace whose only key has expired is not listed.
        try s.store(clock: longAgo()).namespace("stale").put("old", "x", PutOptions(expirationTtl: 60))
        let run = try s.kv(["namespaces"])
        #expect(run.status == 0)
        #expect(run.text == #"[{"name":"posts","key_count":1},{"name":"users","key_count":2}]"# + "\n")
        #expect(run.stderr == "")
    }

    @Test func listPrintsTheLuaListShape() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("blog")
        try ns.put("post:1", "a", PutOptions(expiration: 4_000_000_000, metadata: #"{"author":"alice","n":12345678901234567}"#))
        try ns.put("post:2", "b")
        try ns.put("user:1", "c")
        try s.store(clock: longAgo()).namespace("blog").put("post:0", "expired", PutOptions(expirationTtl: 60))

        let run = try s.kv(["list", "blog", "--prefix", "post:"])
        #expect(run.status == 0)
        #expect(run.text == #"{"keys":[{"name":"post:1","expiration":4000000000,"metadata":{"author":"alice","n":12345678901234567}},{"name":"post:2"}],"list_complete":true}"# + "\n")
        #expect(run.stderr == "")
        // --json gives the same on any output.
        #expect(try s.kv(["list", "blog", "--prefix", "post:", "--json"]).text == run.text)
    }

    @Test func listPagesWithCursorsAndAllFollowsThem() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        for i in 1...5 { try ns.put("k\(i)", "v") }

        let first = try JSONValue.parse(Array(try s.kv(["list", "n", "--limit", "2"]).stdout))
        #expect(names(first) == ["k1", "k2"])
        #expect(first["list_complete"] == .bool(false))
        guard case .string(let cursor)? = first["cursor"] else { Issue.record("no cursor"); return }

        let second = try JSONValue.parse(Array(try s.kv(["list", "n", "--limit", "2", "--cursor", cursor]).stdout))
        #expect(names(second) == ["k3", "k4"])

        let all = try s.kv(["list", "n", "--limit", "2", "--all"])
        #expect(all.status == 0)
        let parsed = try JSONValue.parse(Array(all.stdout))
        #expect(names(parsed) == ["k1", "k2", "k3", "k4", "k5"])
        #expect(parsed["list_complete"] == .bool(true))
        #expect(parsed["cursor"] == nil)
    }

    @Test func listRejectsABadLimitWithTheStoreMessage() throws {
        let s = try Scratch(); defer { s.remove() }
        let run = try s.kv(["list", "n", "--limit", "0"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: limit must be an integer from 1 to 1000 (got 0)\n")
        let cursor = try s.kv(["list", "n", "--cursor", "not-a-cursor"])
        #expect(cursor.status == 1)
        #expect(cursor.stderr.hasPrefix("error: "))
    }

    @Test func getPrintsTheValueExactlyAsStored() throws {
        let s = try Scratch(); defer { s.remove() }
        let binary: [UInt8] = [0x00, 0x61, 0xFF, 0xFE, 0xC3, 0x28, 0x00, 0x0A]
        let ns = try s.store().namespace("files")
        try ns.put("blob", binary, PutOptions(expiration: 4_000_000_000, metadata: #"{"type":"bin"}"#))
        try ns.put("text", "héllo\n")

        let raw = try s.kv(["get", "files", "blob"])
        #expect(raw.status == 0)
        #expect(Array(raw.stdout) == binary)
        #expect(try s.kv(["get", "files", "text"]).text == "héllo\n")

        let meta = try s.kv(["get", "files", "blob", "--metadata"])
        #expect(meta.text == #"{"expiration":4000000000,"metadata":{"type":"bin"}}"# + "\n")
        #expect(try s.kv(["get", "files", "text", "--metadata"]).text == #"{"expiration":null,"metadata":null}"# + "\n")

        let json = try s.kv(["get", "files", "blob", "--json"])
        #expect(json.text == #"{"key":"blob","value":"AGH//sMoAAo=","base64":true,"expiration":4000000000,"metadata":{"type":"bin"}}"# + "\n")
        #expect(try s.kv(["get", "files", "text", "--json"]).text == #"{"key":"text","value":"héllo\n"}"# + "\n")
    }

    @Test func getOfAMissingOrExpiredKeyExitsOne() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.store(clock: longAgo()).namespace("n").put("old", "x", PutOptions(expirationTtl: 60))
        for key in ["nothing", "old"] {
            let run = try s.kv(["get", "n", key])
            #expect(run.status == 1)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr == "error: key \"\(key)\" not found in namespace \"n\"\n")
        }
    }

    @Test func putTakesTheValueFromTheArgumentAFileOrStandardInput() throws {
        let s = try Scratch(); defer { s.remove() }
        let binary: [UInt8] = [0xFF, 0x00, 0x01, 0x80]
        try Data(binary).write(to: URL(fileURLWithPath: s.path("value.bin")))

        #expect(try s.kv(["put", "n", "arg", "from the command line"]).status == 0)
        #expect(try s.kv(["put", "n", "file", "--file", "value.bin"]).status == 0)
        let piped = try s.kv(["put", "n", "stdin", "-"], stdin: Data([0x00, 0xC0, 0x0A]))
        #expect(piped.status == 0)
        #expect(piped.stdout.isEmpty && piped.stderr.isEmpty)

        let ns = try s.store().namespace("n")
        #expect(try ns.get("arg")?.text == "from the command line")
        #expect(try ns.get("file") == binary)
        #expect(try ns.get("stdin") == [0x00, 0xC0, 0x0A])
    }

    @Test func putStoresExpirationAndCompactMetadata() throws {
        let s = try Scratch(); defer { s.remove() }
        let before = SystemClock().nowSeconds()
        #expect(try s.kv(["put", "n", "ttl", "v", "--ttl", "3600"]).status == 0)
        let after = SystemClock().nowSeconds()
        #expect(try s.kv(["put", "n", "abs", "v", "--expiration", "4000000000", "--metadata", #"{ "a": [1, 2.5, true], "b": null }"#]).status == 0)

        let ns = try s.store().namespace("n")
        let ttl = try #require(try ns.getWithMetadata("ttl"))
        #expect(ttl.expiration.map { $0 >= before + 3600 && $0 <= after + 3600 } == true)
        let abs = try #require(try ns.getWithMetadata("abs"))
        #expect(abs.expiration == 4_000_000_000)
        #expect(abs.metadata == #"{"a":[1,2.5,true],"b":null}"#)
    }

    @Test(arguments: [
        (["put", "n", String(repeating: "k", count: 513), "v"], "key exceeds 512 bytes (got 513)"),
        (["put", "n", ".", "v"], #"key must not be "." or "..""#),
        (["put", "", "k", "v"], "namespace name must not be empty"),
        (["put", "n", "k", "v", "--ttl", "0"], "expirationTtl must be a positive integer number of seconds (got 0)"),
        (["put", "n", "k", "v", "--ttl", "1.5"], "expirationTtl must be a positive integer number of seconds (got 1.5)"),
        (["put", "n", "k", "v", "--ttl", "soon"], #"expirationTtl must be a positive integer number of seconds (got "soon")"#),
        (["put", "n", "k", "v", "--expiration", "5"], "expiration must be in the future (got 5, now "),
        (["put", "n", "k", "v", "--metadata", "{bad"], "metadata is not valid JSON: expected a string key at byte 1"),
        (["put", "n", "k", "v", "--metadata", "\"" + String(repeating: "m", count: 1100) + "\""], "metadata exceeds 1024 bytes when serialised (got 1102)"),
    ])
    func putRefusesWhatTheLuaAPIRefusesWithTheSameMessage(_ arguments: [String], _ message: String) throws {
        let s = try Scratch(); defer { s.remove() }
        let run = try s.kv(arguments)
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("error: " + message), "\(run.stderr)")
        #expect(try s.store().namespaces().isEmpty)
    }

    @Test func putRefusesAnOversizedFileBeforeReadingIt() throws {
        let s = try Scratch(); defer { s.remove() }
        let big = s.path("big.bin")
        FileManager.default.createFile(atPath: big, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: UInt64(KVLimits.maxValueBytes + 1)) // sparse: no 25 MiB written
        try handle.close()
        let run = try s.kv(["put", "n", "k", "--file", "big.bin"])
        #expect(run.status == 1)
        #expect(run.stderr == "error: value exceeds 26214400 bytes (got 26214401)\n")
    }

    @Test(arguments: [["put", "n", "k"], ["put", "n", "k", "v", "--file", "f"], ["put", "n", "k", "v", "--ttl", "5", "--expiration", "4000000000"], ["delete", "n"], ["delete", "n", "k", "--prefix", "p"]])
    func usageMistakesExitWithTheUsageStatus(_ arguments: [String]) throws {
        let s = try Scratch(); defer { s.remove() }
        let run = try s.kv(arguments)
        #expect(run.status == 64)
        #expect(run.stderr.contains("Usage:"))
    }

    @Test func deleteKeysSaysHowManyWereRemoved() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        for key in ["a", "b", "c"] { try ns.put(key, "v") }
        let run = try s.kv(["delete", "n", "a", "c", "zz"])
        #expect(run.status == 0)
        #expect(run.text == "Deleted 2 keys from namespace \"n\". Not found: \"zz\".\n")
        #expect(try ns.list().keys.map(\.name) == ["b"])
    }

    @Test func deleteByPrefixRemovesOnlyMatchingKeysWithoutAskingOffATerminal() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
        for i in 0..<2_500 { batch.append((Array("user:\(i)".utf8), Array("v".utf8), PutOptions())) }
        for i in 0..<10 { batch.append((Array("post:\(i)".utf8), Array("v".utf8), PutOptions())) }
        try ns.putMany(batch)

        let run = try s.kv(["delete", "n", "--prefix", "user:"])
        #expect(run.status == 0)
        #expect(run.text == "Deleted 2,500 keys (keys starting with \"user:\") from namespace \"n\".\n")
        #expect(run.stderr == "") // no progress bar off a terminal
        #expect(try ns.list().keys.count == 10)

        let none = try s.kv(["delete", "n", "--prefix", "user:", "--yes"])
        #expect(none.text == "Deleted 0 keys (keys starting with \"user:\") from namespace \"n\".\n")
    }

    @Test func purgeExpiredSaysHowManyItRemoved() throws {
        let s = try Scratch(); defer { s.remove() }
        let old = try s.store(clock: longAgo())
        for key in ["a", "b", "c"] { try old.namespace("n").put(key, "v", PutOptions(expirationTtl: 60)) }
        try old.namespace("m").put("live", "v")

        let run = try s.kv(["purge-expired"])
        #expect(run.status == 0)
        #expect(run.text == "Removed 3 keys that had expired.\n")
        #expect(try s.kv(["purge-expired"]).text == "Removed 0 keys that had expired.\n")
        #expect(try s.store().namespace("m").get("live")?.text == "v")
    }

    @Test func theStoreIsFoundAsLuatRunFindsItOrNamedByDataDir() throws {
        let s = try Scratch(); defer { s.remove() }
        try s.write("luat.toml", "[routing]\ndata_dir = \"storage\"\n")
        let sub = s.path("src/routes/deep")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)

        #expect(try runLuat(["kv", "put", "n", "k", "project"], in: sub).status == 0)
        #expect(try s.store(dataDir: "storage").namespace("n").get("k")?.text == "project")

        #expect(try runLuat(["kv", "put", "--data-dir", "elsewhere", "n", "k", "other"], in: sub).status == 0)
        #expect(try s.store(dataDir: "src/routes/deep/elsewhere").namespace("n").get("k")?.text == "other")
        #expect(try runLuat(["kv", "get", "n", "k"], in: sub).stdout == Data("project".utf8))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func progressAndTablesAppearOnlyOnATerminal() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
        for i in 0..<3_000 { batch.append((Array("k\(i)".utf8), Array("v".utf8), PutOptions())) }
        try ns.putMany(batch)
        try ns.put("meta", "v", PutOptions(expiration: 4_000_000_000, metadata: #"{"a":1}"#))

        func onTerminal(_ command: String) throws -> String { try runOnTerminal(command, in: s).output }

        let table = try onTerminal("list n --prefix meta")
        #expect(table.contains("NAME"))
        #expect(table.contains("2096-10-02T07:06:40Z"))
        #expect(table.contains(#"{"a":1}"#))

        let namespaces = try onTerminal("namespaces")
        #expect(namespaces.contains("NAMESPACE"))
        #expect(namespaces.contains("3,001"))

        let export = try onTerminal("export n -o out.json")
        #expect(export.contains("Exporting ["))
        #expect(export.contains("keys/s"))
        #expect(export.contains("Exported 3,001 keys"))

        let delete = try onTerminal("delete n --prefix k --yes")
        #expect(delete.contains("Deleting ["))
        #expect(delete.contains("Deleted 3,000 keys"))

        // Off a terminal the same export prints its summary only.
        let quiet = try s.kv(["export", "n", "-o", "out2.json"])
        #expect(quiet.stderr == "Exported 1 key from namespace \"n\" to out2.json.\n")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func deleteByPrefixAsksFirstOnATerminal() throws {
        let s = try Scratch(); defer { s.remove() }
        let ns = try s.store().namespace("n")
        for key in ["tmp:1", "tmp:2", "keep"] { try ns.put(key, "v") }

        let no = try runOnTerminal("delete n --prefix tmp:", in: s, answer: "n\n")
        #expect(no.status == 1)
        #expect(no.output.contains(#"Delete 2 keys (keys starting with "tmp:") from namespace "n"? [y/N]"#))
        #expect(no.output.contains("Cancelled; nothing was deleted."))
        #expect(try ns.list().keys.count == 3)

        let yes = try runOnTerminal("delete n --prefix tmp:", in: s, answer: "y\n")
        #expect(yes.status == 0)
        #expect(yes.output.contains(#"Deleted 2 keys (keys starting with "tmp:") from namespace "n"."#))
        #expect(try ns.list().keys.map(\.name) == ["keep"])
    }

    /// Runs `luat kv <command>` under `script`, which gives it a pseudo-terminal for stdin,
    /// stdout and stderr; `answer` is typed into it. Returns everything the terminal showed.
    private func runOnTerminal(_ command: String, in s: Scratch, answer: String = "") throws -> (status: Int32, output: String) {
        let luat = try luatBinaryPath()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "\(luat) kv \(command)", "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: s.root)
        let out = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(answer.utf8))
        try input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func names(_ list: JSONValue) -> [String] {
        guard case .array(let keys)? = list["keys"] else { return [] }
        return keys.compactMap { if case .string(let name)? = $0["name"] { return name } else { return nil } }
    }
}
