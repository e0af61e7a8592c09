import Foundation
import Testing

/// `luat run` as a real process.
@Suite struct RunCommandTests {
    let root: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("luat-run-\(UUID().uuidString)").path
        root = (base as NSString).resolvingSymlinksInPath
        try FileManager.default.createDirectory(atPath: root + "/src/lib", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/scripts", withIntermediateDirectories: true)
        try "".write(toFile: root + "/luat.toml", atomically: true, encoding: .utf8)
    }

    func write(_ text: String, _ path: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func out(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func printsAndPassesArguments() throws {
        try write("""
            print("args", #arg, arg[0], arg[1], arg[2], ...)
            print(json.encode({ n = 1 }))
            """, "scripts/hello.lua")
        let r = try runLuat(["run", "scripts/hello.lua", "one", "--two"], in: root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(out(r.stdout) == "args\t2\tscripts/hello.lua\tone\t--two\tone\t--two\n{\"n\":1}\n")
        #expect(r.stderr == "")
    }

    @Test func persistsBetweenRunsInTheProjectStore() throws {
        try write("""
            local kv = KV.namespace("counter")
            local n = tonumber(kv:get("n") or "0") + 1
            kv:put("n", n)
            print(n)
            """, "scripts/count.lua")
        let first = try runLuat(["run", "scripts/count.lua"], in: root)
        let second = try runLuat(["run", "count.lua"], in: root + "/scripts") // project found upwards
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)\(second.stderr)")
        #expect(out(first.stdout) == "1\n")
        #expect(out(second.stdout) == "2\n")
        #expect(FileManager.default.fileExists(atPath: root + "/.luat/data/kv.db"))

        // --memory keeps nothing; --data-dir uses another file.
        #expect(out(try runLuat(["run", "--memory", "scripts/count.lua"], in: root).stdout) == "1\n")
        #expect(out(try runLuat(["run", "--memory", "scripts/count.lua"], in: root).stdout) == "1\n")
        #expect(out(try runLuat(["run", "--data-dir", "other", "scripts/count.lua"], in: root).stdout) == "1\n")
        #expect(FileManager.default.fileExists(atPath: root + "/other/kv.db"))
        #expect(out(try runLuat(["run", "scripts/count.lua"], in: root).stdout) == "3\n")
    }

    @Test func dataDirFromLuatToml() throws {
        try "[routing]\ndata_dir = \"var/kv\"\n".write(toFile: root + "/luat.toml", atomically: true, encoding: .utf8)
        try write("KV.namespace('x'):put('k', 'v')", "scripts/put.lua")
        let r = try runLuat(["run", "scripts/put.lua"], in: root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/var/kv/kv.db"))
    }

    @Test func requireFromTheProject() throws {
        try write("return { hi = function() return 'hi from lib' end }", "src/lib/greet.lua")
        try write("print(require('greet').hi(), require('../src/lib/greet') == require('$lib/greet'))", "scripts/req.lua")
        let r = try runLuat(["run", "scripts/req.lua"], in: root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(out(r.stdout) == "hi from lib\ttrue\n")
    }

    @Test func luaErrorGoesToStderrWithTraceback() throws {
        try write("""
            print("before")
            local function fails()
                error("something broke")
            end
            fails()
            """, "scripts/fail.lua")
        let r = try runLuat(["run", "scripts/fail.lua"], in: root)
        #expect(r.status == 1)
        #expect(out(r.stdout) == "before\n")
        #expect(r.stderr.hasPrefix("luat: scripts/fail.lua:3: something broke\nstack traceback:\n"))
        #expect(r.stderr.contains("scripts/fail.lua:3: in "))
        #expect(r.stderr.contains("scripts/fail.lua:5: in main chunk"))
    }

    @Test func kvErrorsAreLuaErrors() throws {
        try write("""
            local kv = KV.namespace("x")
            local ok, err = pcall(kv.put, kv, "k", true)
            print(ok, err)
            kv:put(string.rep("k", 513), "v")
            """, "scripts/kv.lua")
        let r = try runLuat(["run", "scripts/kv.lua"], in: root)
        #expect(r.status == 1)
        #expect(out(r.stdout) == "false\tKV.put: value must be a string or table, got boolean\n")
        #expect(r.stderr.hasPrefix("luat: KV.put: key exceeds 512 bytes (got 513)\nstack traceback:"))
        #expect(r.stderr.contains("scripts/kv.lua:4: in main chunk"))
    }

    @Test func syntaxErrorsAndMissingFiles() throws {
        try write("local x = = 1", "scripts/syntax.lua")
        let syntax = try runLuat(["run", "scripts/syntax.lua"], in: root)
        #expect(syntax.status == 1)
        #expect(syntax.stderr.hasPrefix("luat: scripts/syntax.lua:1:"))

        let missing = try runLuat(["run", "scripts/nope.lua"], in: root)
        #expect(missing.status == 1)
        #expect(missing.stderr == "luat: cannot open scripts/nope.lua\n")

        let usage = try runLuat(["run"], in: root)
        #expect(usage.status != 0)
        #expect(usage.stderr.contains("Missing expected argument"))
    }

    @Test func exitCodesFromOsExit() throws {
        try write("io.write('bye'); os.exit(3)", "scripts/exit.lua")
        let r = try runLuat(["run", "scripts/exit.lua"], in: root)
        #expect(r.status == 3)
        #expect(out(r.stdout) == "bye")
    }
}
