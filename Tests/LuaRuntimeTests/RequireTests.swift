import Foundation
import KVCore
import LuaRuntime
import Testing

/// `require` resolution: lib folder by name, `lib/x`, `$lib/x`, relative paths, dotted
/// names, once per state, missing modules listing the tried paths, nothing outside the project.
@Suite struct RequireTests {
    static let counted = """
        loads = (loads or 0) + 1
        return { name = "blog", n = loads }
        """

    @Test func everySpellingReachesTheSameModuleOnce() throws {
        let h = try LuaHarness(.memory, files: [
            "src/lib/blog.lua": Self.counted,
            "src/routes/blog/[slug]/+page.server.lua": """
                local a = require("blog")
                local b = require("lib/blog")
                local c = require("$lib/blog")
                local d = require("../../../lib/blog")
                local e = require("../../../lib/blog.lua")
                assert(a == b and b == c and c == d and d == e)
                function GET() return a.n, loads end
                """,
        ])
        let page = try h.runtime.loadEnvironment(file: "src/routes/blog/[slug]/+page.server.lua")
        #expect(try page.call("GET") == [.integer(1), .integer(1)])
        #expect(try h.run("return require('blog').n, loads") == [.integer(1), .integer(1)])
    }

    @Test func relativeToTheRequiringFile() throws {
        let h = try LuaHarness(.memory, files: [
            "src/routes/admin/helpers.lua": "return { where = 'routes/admin' }",
            "src/routes/admin/+page.server.lua": """
                local helpers = require("./helpers")
                local util = require("./sub/util")
                function GET() return helpers.where, util.where, util.sibling end
                """,
            "src/routes/admin/sub/util.lua": """
                local sibling = require("./sibling")    -- relative to sub/, not to the caller's folder
                local up = require("../helpers")
                return { where = 'routes/admin/sub', sibling = sibling, up = up.where }
                """,
            "src/routes/admin/sub/sibling.lua": "return 'sub/sibling'",
        ])
        let page = try h.runtime.loadEnvironment(file: "src/routes/admin/+page.server.lua")
        #expect(try page.call("GET") == [.string("routes/admin"), .string("routes/admin/sub"), .string("sub/sibling")])
    }

    @Test func requireInsideAFunctionResolvesFromItsFile() throws {
        let h = try LuaHarness(.memory, files: [
            "src/routes/x/helpers.lua": "return 'x helpers'",
            "src/routes/x/+server.lua": "function GET() return require('./helpers') end",
        ])
        let route = try h.runtime.loadEnvironment(file: "src/routes/x/+server.lua")
        #expect(try route.call("GET") == [.string("x helpers")])
    }

    @Test func dottedNamesAndInitFiles() throws {
        let h = try LuaHarness(.memory, files: [
            "src/lib/utils/strings.lua": "return { upper = string.upper }",
            "src/lib/models/init.lua": "return 'models package'",
        ])
        #expect(try h.run("""
            local a = require("utils.strings")
            local b = require("utils/strings")
            local c = require("$lib/utils/strings")
            assert(a == b and b == c)
            return a.upper("x"), require("models"), require("lib/models")
            """) == [.string("X"), .string("models package"), .string("models package")])
    }

    @Test func standardLibrariesStillLoad() throws {
        let h = try LuaHarness(.memory)
        #expect(try h.run("return require('string') == string, require('table') == table") == [.boolean(true), .boolean(true)])
    }

    @Test func missingModuleListsTriedPaths() throws {
        let h = try LuaHarness(.memory)
        #expect(try h.errorMessage("require('nope.sub')") == """
            require: module "nope.sub" not found; tried:
            \tsrc/lib/nope/sub.lua
            \tsrc/lib/nope/sub/init.lua
            """)
        #expect(try h.errorMessage("require('./x')") == """
            require: module "./x" not found; tried:
            \tx.lua
            \tx/init.lua
            """)
        #expect(try h.errorMessage("require(42)") == "require: module name must be a string, got number")
        #expect(try h.errorMessage("require('')") == "require: module name must not be empty")
    }

    @Test func nothingOutsideTheProject() throws {
        let h = try LuaHarness(.memory)
        let outside = (h.root as NSString).deletingLastPathComponent + "/outside-\(UUID().uuidString)"
        try LuaHarness.write("return 'secret'", to: outside + ".lua")
        defer { try? FileManager.default.removeItem(atPath: outside + ".lua") }
        let name = (outside as NSString).lastPathComponent

        let relative = try #require(try h.errorMessage("require('../\(name)')"))
        #expect(relative.hasPrefix("require: module \"../\(name)\" would be \(outside), outside the project folder"))
        let viaLib = try #require(try h.errorMessage("require('$lib/../../../\(name)')"))
        #expect(viaLib.contains("outside the project folder"))
        let absolute = try #require(try h.errorMessage("require('/etc/passwd')"))
        #expect(absolute.contains("outside the project folder"))

        // A symbolic link inside the project that points outside is refused too.
        try FileManager.default.createSymbolicLink(atPath: h.root + "/src/lib/sneaky.lua", withDestinationPath: outside + ".lua")
        #expect(try h.errorMessage("require('sneaky')")
                == "require: module \"sneaky\" resolves through a link to a file outside the project folder")
    }

    @Test func libDirFromLuatToml() throws {
        let h = try LuaHarness(.memory, files: ["lua/shared/blog.lua": "return 'from lua/shared'"],
                               toml: "[routing]\nlib_dir = \"lua/shared\"\n")
        #expect(try h.run("return require('blog'), require('$lib/blog')") == [.string("from lua/shared"), .string("from lua/shared")])
    }

    @Test func moduleErrorsKeepTheirTraceback() throws {
        let h = try LuaHarness(.memory, files: [
            "src/lib/broken.lua": "local M = {}\n\nerror('broken at load')\nreturn M",
            "src/lib/syntax.lua": "return {",
            "src/lib/loop_a.lua": "return require('loop_b')",
            "src/lib/loop_b.lua": "return require('loop_a')",
        ])
        do {
            try h.run("require('broken')", name: "src/main.lua")
            Issue.record("expected an error")
        } catch let error as LuaError {
            #expect(error.message == "src/lib/broken.lua:3: broken at load")
            #expect(error.traceback?.contains("src/main.lua:1") == true)
        }
        let syntax = try #require(try h.errorMessage("require('syntax')"))
        #expect(syntax.hasPrefix("require: error loading module \"syntax\" from src/lib/syntax.lua: src/lib/syntax.lua:1:"))
        #expect(try h.errorMessage("require('loop_a')")?.hasPrefix("require: module \"loop_a\" requires itself while loading") == true)
        // A failed load is not cached as loaded, and does not poison a retry.
        try LuaHarness.write("return 'fixed'", to: h.root + "/src/lib/broken.lua")
        #expect(try h.run("return require('broken')") == [.string("fixed")])
    }

    @Test func resolverWorksWithoutAFileSystem() throws {
        let files = MemoryFileSource(["/app/src/lib/a.lua": "return require('./b') .. '+a'", "/app/src/lib/b.lua": "return 'b'"])
        let runtime = try LuaRuntime(store: KVStore(storage: MemoryStorage(), clock: ManualClock(seconds: 0)),
                                     projectRoot: "/app", files: files)
        #expect(try runtime.run(source: "return require('a')") == [.string("b+a")])
        let resolver = ModuleResolver(root: "/app", libDirectory: "src/lib")
        #expect(try resolver.candidates(for: "x.y", callerFile: nil) == ["/app/src/lib/x/y.lua", "/app/src/lib/x/y/init.lua"])
        #expect(try resolver.candidates(for: "../x", callerFile: "/app/src/routes/r.lua") == ["/app/src/x.lua", "/app/src/x/init.lua"])
        #expect(throws: LuaError.self) { try resolver.candidates(for: "../../../x", callerFile: "/app/src/routes/r.lua") }
    }
}
