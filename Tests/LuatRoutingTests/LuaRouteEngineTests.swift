import KVCore
import LuaRuntime
import LuatRouting
import Testing

/// The Lua side of the routing rules over a real Lua state with in-memory files and store
/// (the setup of the WASM engine).
@Suite struct LuaRouteEngineTests {
    let files: MemoryFileSource
    let routes: LuaRouteEngine
    let dispatcher = RouteDispatcher(production: false)

    init(_ sources: [String: String] = [:]) throws {
        var all = sources
        all["src/lib/counter.lua"] = "local n = 0\nreturn { next = function() n = n + 1 return n end }"
        var byPath: [String: String] = [:]
        for (path, text) in all { byPath["/project/" + path] = text }
        files = MemoryFileSource(byPath)
        let runtime = try LuaRuntime(store: KVStore(storage: MemoryStorage(), clock: ManualClock(seconds: 1_700_000_000)),
                                     projectRoot: "/project", files: files)
        routes = try LuaRouteEngine(runtime: runtime)
    }

    func write(_ path: String, _ text: String) { files.files["/project/" + path] = Array(text.utf8) }

    func ctx(_ method: String, headers: [(String, String)] = [], action: String? = nil) -> LuaValue {
        var fields: [(String, LuaValue)] = [
            ("method", .string(method)), ("params", LuaRouteEngine.object([])), ("query", LuaRouteEngine.object([])),
            ("form", LuaRouteEngine.object([])), ("headers", LuaRouteEngine.object(headers.map { ($0.0, LuaValue.string($0.1)) })),
        ]
        if let action { fields.append(("action", .string(action))) }
        return .table(LuaTable(fields))
    }

    func respond(_ files: RouteFiles, _ method: String, action: String? = nil, headers: [(String, String)] = []) -> RouteResponse {
        dispatcher.respond(files: files, method: method, action: action, ctx: LuaArgument(ctx(method, headers: headers, action: action)), engine: routes)
    }

    func text(_ r: RouteResponse) -> String { String(decoding: r.body, as: UTF8.self) }

    @Test func exportsOfAFile() throws {
        write("src/routes/api/+server.lua", """
            function GET(ctx) end
            function POST(ctx) end
            PUT = POST
            DELETE = "not a function"
            local function PATCH() end
            """)
        write("src/routes/page/+page.server.lua", """
            function load(ctx) end
            actions = {
                default = function(ctx) end,
                publish = { post = function() end, Put = function() end, DELETE = "no" },
                broken = 42,
            }
            """)
        #expect(try routes.exports(of: "src/routes/api/+server.lua") == RouteExports(functions: ["GET", "POST", "PUT"]))
        let page = try routes.exports(of: "src/routes/page/+page.server.lua")
        #expect(page.functions == ["load"])
        #expect(page.actions == ["default": .function, "publish": .methods(["POST", "PUT"])])
        // Lua's own global `load` is not the file's.
        write("src/routes/none/+page.server.lua", "-- nothing")
        #expect(try routes.exports(of: "src/routes/none/+page.server.lua") == RouteExports())
    }

    @Test func callsAndResults() {
        write("src/routes/api/+server.lua", """
            function GET(ctx)
                return { status = 201, body = { agent = ctx.headers["User-Agent"], method = ctx.method }, headers = { ["X-A"] = 1 } }
            end
            function POST(ctx) return fail(422, { error = "bad" }) end
            function PUT(ctx) return function() end end
            function DELETE(ctx) local t = nil return t.x end
            """)
        let api = RouteFiles(endpoint: "src/routes/api/+server.lua")
        let got = respond(api, "GET", headers: [("user-agent", "test")])
        #expect(got.status == 201 && text(got) == #"{"agent":"test","method":"GET"}"# && got.header("X-A") == "1")
        let head = respond(api, "HEAD")
        #expect(head.status == 201)
        let failed = respond(api, "POST")
        #expect(failed.status == 422 && text(failed) == #"{"error":"bad"}"#)
        let unsendable = respond(api, "PUT")
        #expect(unsendable.status == 500)
        #expect(text(unsendable).contains("PUT returned a value that cannot be sent: cannot encode a function"))
        let error = try? JSONValue.parse(respond(api, "DELETE").body)
        #expect(error?["location"] == .string("src/routes/api/+server.lua:6"))
        #expect(error?["message"] == .string("attempt to index a nil value (local 't')"))
        let notAllowed = respond(api, "PATCH")
        #expect(notAllowed.status == 405 && notAllowed.header("Allow") == "GET, HEAD, POST, PUT, DELETE")
    }

    @Test func pagesLayoutsAndActions() {
        write("src/routes/+layout.server.lua", #"function load(ctx) return { site = "S", title = "outer" } end"#)
        write("src/routes/blog/+page.server.lua", """
            function load(ctx) return { title = "Blog" } end
            actions = {
                default = function(ctx) return { saved = true } end,
                delete = function(ctx) return { redirect = "/blog" } end,
                publish = { PUT = function(ctx) return { put = ctx.method } end },
            }
            """)
        let page = RouteFiles(page: "src/routes/blog/+page.server.lua", layouts: ["src/routes/+layout.server.lua"])
        #expect(text(respond(page, "GET")) == #"{"site":"S","title":"Blog"}"#)
        #expect(text(respond(page, "POST")) == #"{"saved":true}"#)
        let deleted = respond(page, "POST", action: "delete")
        #expect(deleted.status == 303 && deleted.header("Location") == "/blog")
        #expect(text(respond(page, "PUT", action: "publish")) == #"{"put":"PUT"}"#)
        #expect(respond(page, "POST", action: "publish").header("Allow") == "GET, HEAD, PUT")
    }

    @Test func filesLoadOncePerStateAndStayApart() {
        write("src/routes/a/+server.lua", """
            local counter = require("counter")
            local loaded = counter.next()
            leaked = true
            function GET(ctx) return { body = { loaded = loaded } } end
            """)
        write("src/routes/b/+server.lua", #"function GET(ctx) return { body = { leaked = leaked == nil, a = GET ~= nil } } end"#)
        let a = RouteFiles(endpoint: "src/routes/a/+server.lua")
        #expect(text(respond(a, "GET")) == #"{"loaded":1}"#)
        #expect(text(respond(a, "GET")) == #"{"loaded":1}"#)
        #expect(text(respond(RouteFiles(endpoint: "src/routes/b/+server.lua"), "GET")) == #"{"a":true,"leaked":true}"#)
        routes.invalidate()
        #expect(text(respond(a, "GET")) == #"{"loaded":2}"#)  // loaded again; `require` keeps its module
    }

    @Test func inlineSourcesTakeThePlaceOfFiles() {
        write("src/routes/+server.lua", #"function GET() return "from the file" end"#)
        let files = RouteFiles(endpoint: "src/routes/+server.lua")
        routes.inlineSources = ["src/routes/+server.lua": #"function GET() return "inline" end"#]
        #expect(text(respond(files, "GET")) == "inline")
        routes.inlineSources = ["src/routes/+server.lua": #"function GET() return "inline again" end"#]
        #expect(text(respond(files, "GET")) == "inline again")
        routes.inlineSources = [:]
        #expect(text(respond(files, "GET")) == "from the file")
        routes.inlineSources = ["src/routes/+server.lua": "function GET( end"]
        let syntax = try? JSONValue.parse(respond(files, "GET").body)
        #expect(syntax?["location"] == .string("src/routes/+server.lua:1"))
    }

    @Test func missingFileIsA500() {
        let r = respond(RouteFiles(endpoint: "src/routes/nowhere/+server.lua"), "GET")
        #expect(r.status == 500)
        #expect((try? JSONValue.parse(r.body))?["message"] == .string("cannot open src/routes/nowhere/+server.lua"))
    }

    @Test func jsonValuesBecomeLuaValues() {
        let value = LuaRouteEngine.luaValue(.object([("a", .array([.integer(1), .double(1.5), .null, .bool(true), .string("s")])), ("o", .object([]))]))
        guard case .table(let table) = value else { Issue.record("not a table"); return }
        #expect(table.jsonType == .object)
        #expect(table["a"] == .table(LuaTable(array: [.integer(1), .number(1.5), .jsonNull, .boolean(true), .string("s")], jsonType: .array)))
        #expect(table["o"].tableValue?.jsonType == .object)
    }

    /// `RequestContext.luaArgument` writes `ctx` straight into Lua; it must be the very table
    /// `luaValue` describes: every field, value type, JSON shape and table identity.
    @Test func ctxWrittenStraightIntoLuaIsTheTableLuaValueDescribes() throws {
        write("src/routes/shape/+server.lua", """
            local function shape(v)
              if v == json.null then return "<null>" end
              if type(v) ~= "table" then return type(v) .. ":" .. tostring(v) end
              local mt = getmetatable(v)
              local out = { ["<shape>"] = type(mt) == "table" and tostring(mt.__jsontype) or tostring(mt) }
              for k, x in pairs(v) do out[type(k) .. ":" .. tostring(k)] = shape(x) end
              return out
            end
            function POST(ctx)
              local s = shape(ctx)
              s["<body is json>"] = rawequal(ctx.body, ctx.json)
              return s
            end
            """)
        let files = RouteFiles(endpoint: "src/routes/shape/+server.lua")
        var json = RequestContext(method: "POST", url: "http://h/shape/a/b?x=1&x=2&y=", path: "/shape/a/b",
                                  params: ["slug": "a", "id": "b", "z": "ü"], query: [("x", "1"), ("x", "2"), ("y", "")],
                                  headers: [("content-type", "application/json"), ("x-many", "a, b")],
                                  rawBody: Array(#"{"list":[1,2.5,null,[],{}],"obj":{"k":"v","e":{}},"t":true,"s":"é"}"#.utf8),
                                  action: "save")
        json.parseBody()
        var form = RequestContext(method: "POST", url: "http://h/shape", path: "/shape",
                                  headers: [("content-type", "application/x-www-form-urlencoded")],
                                  rawBody: Array("a=1&b=two&a=3".utf8))
        form.parseBody()
        let bare = RequestContext(method: "POST", url: "http://h/shape", path: "/shape")
        for request in [json, form, bare] {
            let direct = dispatcher.respond(files: files, method: "POST", action: nil, ctx: request.luaArgument, engine: routes)
            let copied = dispatcher.respond(files: files, method: "POST", action: nil, ctx: LuaArgument(request.luaValue), engine: routes)
            #expect(direct.status == 200)
            #expect(text(direct) == text(copied))
        }
        // What the comparison sees (so it cannot pass on two empty answers).
        let seen = try JSONValue.parse(dispatcher.respond(files: files, method: "POST", action: nil, ctx: json.luaArgument, engine: routes).body)
        #expect(seen["<body is json>"] == .bool(false))
        #expect(seen["string:body"]?["<shape>"] == .string("object"))
        #expect(seen["string:body"]?["string:list"]?["<shape>"] == .string("array"))
        #expect(seen["string:body"]?["string:list"]?["number:3"] == .string("<null>"))
        #expect(seen["string:params"]?["string:z"] == .string("string:ü"))
        #expect(seen["string:query"]?["string:x"] == .string("string:1"))
        #expect(seen["string:action"] == .string("string:save"))
        #expect(seen["string:headers"]?["<shape>"] == .string("false"))
    }
}
