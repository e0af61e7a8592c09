import KVCore
import LuaRuntime
import Testing

/// Issue 10, item 6: route code cannot end or spawn processes or poison later requests.
@Suite struct SafeLibraryTests {
    static let safe = LuaLimits(library: .safe)

    @Test(arguments: [
        "os.exit", "os.execute", "os.getenv", "os.remove", "os.rename", "os.tmpname", "os.setlocale",
        "io.popen", "loadfile", "dofile", "package.loadlib", "debug.sethook", "debug.setmetatable",
        "debug.getregistry", "debug.setupvalue", "debug.upvaluejoin", "debug.setlocal",
    ])
    func dangerousFunctionsAreGone(name: String) throws {
        let h = try LuaHarness(.memory, limits: Self.safe)
        #expect(try h.run("return type(\(name))") == [.string("nil")])
        // The full library keeps them (luat run).
        let full = try LuaHarness(.memory)
        #expect(try full.run("return type(\(name))") == [.string("function")])
    }

    @Test func whatStaysWorks() throws {
        let h = try LuaHarness(.memory, limits: Self.safe)
        #expect(try h.run("return type(os.time()), type(os.clock()), os.date('!%Y', 0), type(debug.traceback('x'))")
                == [.string("number"), .string("number"), .string("1970"), .string("string")])
        #expect(try h.run("return load('return 1 + 1')(), load('return x', 'c', 't', { x = 7 })()") == [.integer(2), .integer(7)])
        #expect(try h.run("return collectgarbage('count') > 0, string.upper('a'), ('b'):rep(2)") == [.boolean(true), .string("A"), .string("bb")])
        #expect(try h.run("local ok, e = pcall(load, string.dump(function() end), 'b', 'b') return ok, e:match('only text chunks') ~= nil")
                == [.boolean(false), .boolean(true)])
        #expect(try h.run("local ok = pcall(collectgarbage, 'stop') return ok, collectgarbage('isrunning')") == [.boolean(false), .boolean(true)])
    }

    @Test func sharedMetatablesAreProtected() throws {
        let h = try LuaHarness(.memory, limits: Self.safe)
        #expect(try h.run("return getmetatable('')") == [.boolean(false)])
        #expect(try h.run("return getmetatable(KV.namespace('n'))") == [.boolean(false)])
        // One call cannot change what the next sees.
        #expect(try h.run("return pcall(function() getmetatable('').__index = {} end)").first == .boolean(false))
        #expect(try h.run("return ('x'):upper(), json.encode(json.decode('{}'))") == [.string("X"), .string("{}")])
    }
}
