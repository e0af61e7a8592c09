import KVCore
import LuaRuntime
import Testing

/// Every Lua sample of the spec runs unchanged, against both storages, with assertions.
@Suite struct SpecSampleTests {
    @Test(arguments: Backend.allCases)
    func basicUsage(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run(SpecSamples.basicUsage + """

            assert(kv:get("user:123") == nil, "deleted")
            """)
        #expect(h.output.lines == ["Alice"])
        #expect(try h.keys("my-namespace").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func namespacesAreIsolated(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run(SpecSamples.namespaces + """

            assert(users:get("key") == "value1")
            assert(posts:get("key") == "value2")
            """)
        #expect(try h.store.namespace("users").get("key") == Array("value1".utf8))
        #expect(try h.store.namespace("posts").get("key") == Array("value2".utf8))
    }

    @Test(arguments: Backend.allCases)
    func get(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("app")
            kv:put("key", "hello")
            kv:put("config", '{"setting":"dark","n":42}')

            """ + SpecSamples.get + """

            assert(value == "hello")
            assert(data.setting == "dark" and math.type(data.n) == "integer" and data.n == 42)
            assert(missing == nil)
            assert(kv:get("key", "text") == "hello")
            kv:put("bin", "a\\0b\\255")
            assert(kv:get("bin", "arrayBuffer") == "a\\0b\\255")
            """)
        #expect(h.output.lines == ["dark"])
    }

    @Test(arguments: Backend.allCases)
    func getWithMetadata(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        let now = h.clock.nowSeconds()
        try h.run("""
            local kv = KV.namespace("app")
            kv:put("key", "v", { expirationTtl = 60, metadata = { author = "alice", n = 1 } })

            """ + SpecSamples.getWithMetadata + """

            assert(value == "v")
            assert(meta.expiration == \(now + 60))
            assert(meta.metadata.author == "alice" and meta.metadata.n == 1)
            kv:put("plain", "p")
            local v2, m2 = kv:getWithMetadata("plain")
            assert(v2 == "p" and m2.expiration == nil and m2.metadata == nil)
            local v3, m3 = kv:getWithMetadata("missing")
            assert(v3 == nil and m3 == nil)
            """)
        #expect(h.output.lines.count == 3)
        #expect(h.output.lines[0] == "v")
        #expect(h.output.lines[1] == "\(now + 60)")
        #expect(h.output.lines[2].hasPrefix("table: "))
    }

    @Test(arguments: Backend.allCases)
    func put(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("app")
            local post = { title = "Hello", tags = { "a", "b" } }
            local t0 = os.time()

            """ + SpecSamples.put + """

            assert(kv:get("key") == "value")
            local _, session = kv:getWithMetadata("session:abc")
            assert(session.expiration == \(h.clock.nowSeconds() + 3600))
            local _, token = kv:getWithMetadata("token:xyz")
            assert(token.expiration >= t0 + 86400 and token.expiration <= os.time() + 86400)
            local stored, meta = kv:getWithMetadata("post:123", "json")
            assert(stored.title == "Hello" and stored.tags[2] == "b")
            assert(meta.metadata.author == "alice" and meta.metadata.created >= t0)
            """)
        #expect(try h.keys("app") == ["key", "post:123", "session:abc", "token:xyz"])
        // The TTL is real: an hour later the session is gone, the token is not.
        h.clock.advance(by: 3600)
        #expect(try h.keys("app") == ["key", "post:123", "token:xyz"])
    }

    @Test(arguments: Backend.allCases)
    func delete(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("app")
            kv:put("key", "v")

            """ + SpecSamples.delete + """

            assert(kv:get("key") == nil)

            """ + SpecSamples.delete)
        #expect(try h.keys("app").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func list(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("app")
            kv:put("post:1", "a", { metadata = { author = "alice" }, expirationTtl = 600 })
            kv:put("post:2", "b")
            kv:put("user:1", "c")

            """ + SpecSamples.list + """

            assert(#result.keys == 3 and result.list_complete == true and result.cursor == nil)
            assert(#posts.keys == 2 and posts.keys[1].name == "post:1" and posts.keys[2].name == "post:2")
            assert(posts.keys[1].metadata.author == "alice" and posts.keys[1].expiration == \(h.clock.nowSeconds() + 600))
            assert(posts.keys[2].metadata == nil and posts.keys[2].expiration == nil)
            assert(page1.list_complete)
            """)
        #expect(h.output.lines.count == 3 + 6)
        #expect(Array(h.output.lines[0..<3]) == ["post:1", "post:2", "user:1"])
        #expect(h.output.lines[3] == "post:1")
        #expect(h.output.lines[4] == "\(h.clock.nowSeconds() + 600)")
        #expect(h.output.lines[5].hasPrefix("table: "))
        #expect(Array(h.output.lines[6...]) == ["post:2", "nil", "nil"])
    }

    @Test(arguments: Backend.allCases)
    func listPagination(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("many")
            for i = 1, 250 do kv:put(string.format("k%03d", i), tostring(i)) end
            local print = function() end

            """ + SpecSamples.list + """

            assert(#page1.keys == 100 and page1.list_complete == false and type(page1.cursor) == "string")
            local seen, cursor, pages = {}, nil, 0
            repeat
                local page = kv:list({ limit = 100, cursor = cursor })
                pages = pages + 1
                for _, key in ipairs(page.keys) do seen[#seen + 1] = key.name end
                cursor = page.cursor
            until page.list_complete
            assert(pages == 3 and #seen == 250 and seen[1] == "k001" and seen[250] == "k250")
            """)
    }

    @Test(arguments: Backend.allCases)
    func sessionStorage(_ backend: Backend) throws {
        let h = try LuaHarness(backend, files: ["src/lib/session.lua": SpecSamples.session])
        let now = h.clock.nowSeconds()
        try h.run("""
            local n = 0
            function generate_id() n = n + 1; return "id" .. n end
            local session = require("session")
            local id = session.create(42)
            assert(id == "id1")
            local s = session.get(id)
            assert(s.user_id == 42 and math.type(s.user_id) == "integer")
            local _, meta = KV.namespace("sessions"):getWithMetadata("session:" .. id)
            assert(meta.expiration == \(now + 86400))
            session.destroy(id)
            assert(session.get(id) == nil)
            local id2 = session.create(7)
            return id2
            """)
        #expect(try h.keys("sessions") == ["session:id2"])
        h.clock.advance(by: 86400)
        #expect(try h.keys("sessions").isEmpty)
        #expect(try h.run("return require('session').get('id2')") == [.nil])
    }

    @Test(arguments: Backend.allCases)
    func cachingAPIResponses(_ backend: Backend) throws {
        let h = try LuaHarness(backend, files: ["src/routes/api/posts/+server.lua": SpecSamples.cachingRoute])
        try h.run("""
            calls = 0
            function fetch_posts_from_db()
                calls = calls + 1
                return { { id = 1, title = "First" }, { id = 2, title = "Second" } }
            end
            """)
        let route = try h.runtime.loadEnvironment(file: "src/routes/api/posts/+server.lua")
        #expect(route.hasFunction("GET"))
        #expect(try h.runtime.global("GET") == .nil) // the route's globals stay in its environment

        let ctx = LuaValue.table(LuaTable([("params", .table(LuaTable()))]))
        let first = try route.call("GET", arguments: [ctx])
        #expect(first.count == 1)
        #expect(first[0]["status"] == .integer(200))
        #expect(first[0]["headers"]["X-Cache"] == .string("MISS"))
        let body = first[0]["body"]
        #expect(body.tableValue?.array.count == 2)
        #expect(body.tableValue?[2]["title"] == .string("Second"))

        let second = try route.call("GET", arguments: [ctx])
        #expect(second[0]["headers"]["X-Cache"] == .string("HIT"))
        #expect(second[0]["body"] == body)
        #expect(try h.runtime.global("calls") == .integer(1))

        // Cached for 5 minutes.
        h.clock.advance(by: 300)
        let third = try route.call("GET", arguments: [ctx])
        #expect(third[0]["headers"]["X-Cache"] == .string("MISS"))
        #expect(try h.runtime.global("calls") == .integer(2))
    }

    @Test(arguments: Backend.allCases)
    func blogModule(_ backend: Backend) throws {
        let h = try LuaHarness(backend, files: ["src/lib/blog.lua": SpecSamples.blog])
        let now = h.clock.nowSeconds()
        try h.run("""
            local blog = require("blog")
            assert(#blog.get_posts() == 0)
            local p = blog.create_post({ slug = "hello", title = "Hello", author = "alice", content = "Hi" })
            assert(p.created == os.time() or p.created == os.time() - 1)
            blog.create_post({ slug = "second", title = "Second", author = "bob", content = "Two" })
            local posts = blog.get_posts()
            assert(#posts == 2 and posts[1].slug == "hello" and posts[2].slug == "second")
            assert(blog.get_post("hello").title == "Hello")
            local _, meta = KV.namespace("blog"):getWithMetadata("post:hello")
            assert(meta.metadata.author == "alice" and meta.metadata.created == p.created)
            local updated = blog.update_post("hello", { title = "Hello again" })
            assert(updated.title == "Hello again" and updated.content == "Hi" and updated.updated ~= nil)
            assert(blog.get_post("hello").title == "Hello again")
            local missing, err = blog.update_post("nope", { title = "x" })
            assert(missing == nil and err == "Post not found")
            blog.delete_post("second")
            assert(blog.get_post("second") == nil and #blog.get_posts() == 1)
            """)
        #expect(try h.keys("blog") == ["post:hello"])
        let entry = try #require(try h.store.namespace("blog").getWithMetadata("post:hello"))
        let json = try JSONValue.parse(entry.value)
        #expect(json["title"] == .string("Hello again"))
        #expect(json["created"].flatMap { if case .integer(let v) = $0 { v } else { nil } }.map { abs($0 - now) <= 2 } == true)
    }

    @Test(arguments: Backend.allCases)
    func formActions(_ backend: Backend) throws {
        let h = try LuaHarness(backend, files: [
            "src/lib/blog.lua": SpecSamples.blog,
            "src/routes/blog/[slug]/edit/+page.server.lua": SpecSamples.formActions,
        ])
        try h.run("""
            require("blog").create_post({ slug = "hello", title = "Hello", author = "alice", content = "Hi" })
            """)
        let page = try h.runtime.loadEnvironment(file: "src/routes/blog/[slug]/edit/+page.server.lua")
        #expect(page.hasFunction("load"))
        #expect(page.hasFunction("actions", "default"))
        #expect(page.hasFunction("actions", "delete"))
        #expect(try page.value("actions")["default"] == .function)
        #expect(try h.runtime.global("actions") == .nil)

        func ctx(_ slug: String, form: [(String, LuaValue)] = []) -> LuaValue {
            .table(LuaTable([("params", .table(LuaTable([("slug", .string(slug))]))), ("form", .table(LuaTable(form)))]))
        }
        let loaded = try page.call("load", arguments: [ctx("hello")])
        #expect(loaded[0]["post"]["title"] == .string("Hello"))
        let missing = try page.call("load", arguments: [ctx("nope")])
        #expect(missing[0]["status"] == .integer(404))
        #expect(missing[0]["error"] == .string("Post not found"))

        let saved = try page.call("actions", "default", arguments: [ctx("hello", form: [("title", .string("New")), ("content", .string("Body"))])])
        #expect(saved[0]["saved"] == .boolean(true))
        #expect(try h.run("return require('blog').get_post('hello').title") == [.string("New")])

        let failed = try page.call("actions", "default", arguments: [ctx("nope", form: [("title", .string("x"))])])
        #expect(failed[0]["status"] == .integer(400))
        #expect(failed[0]["error"] == .string("Post not found"))

        let deleted = try page.call("actions", "delete", arguments: [ctx("hello")])
        #expect(deleted[0]["redirect"] == .string("/blog"))
        #expect(try h.keys("blog").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func bestPractices(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace("bp")
            local data = "cached"
            local content = "document"
            local user_id = "alice"

            """ + SpecSamples.bestPracticeExpiration + "\n" + SpecSamples.bestPracticePrefixes + "\n"
            + SpecSamples.bestPracticeMetadata + """

            assert(kv:get("user:123:profile") == "profile-data")
            local listed = kv:list({ prefix = "user:123:" })
            assert(#listed.keys == 2)
            local _, meta = kv:getWithMetadata("doc:abc")
            assert(meta.metadata.author == "alice" and meta.metadata.version == 1)
            local _, cache = kv:getWithMetadata("cache:key")
            assert(cache.expiration == \(h.clock.nowSeconds() + 3600))
            do
            """ + "\n" + SpecSamples.bestPracticeMissing + """

            assert(type(data) == "table" and next(data) == nil)
            end
            kv:put("key", '{"a":1}')
            do
            """ + "\n" + SpecSamples.bestPracticeMissing + """

            assert(data.a == 1)
            end
            """, arguments: [.string("profile-data")])
        #expect(try h.keys("bp") == ["cache:key", "doc:abc", "key", "user:123:profile", "user:123:settings"])
    }
}
