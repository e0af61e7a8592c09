import KVCore
import LuaRuntime
import Testing

/// Every invalid argument and limit, from Lua: the exact message, and nothing written.
@Suite struct KVErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let lua: String
        let message: String
        var testDescription: String { lua }
        init(_ lua: String, _ message: String) { self.lua = lua; self.message = message }
    }

    static let long513 = "string.rep('k', 513)"

    static let cases: [Case] = [
        // method calls with a dot
        Case("kv.get('k')", "KV.get: call it as a method with a colon: kv:get(key, type?), not kv.get(...)"),
        Case("kv.getWithMetadata('k')", "KV.getWithMetadata: call it as a method with a colon: kv:getWithMetadata(key, type?), not kv.getWithMetadata(...)"),
        Case("kv.put('k', 'v')", "KV.put: call it as a method with a colon: kv:put(key, value, options?), not kv.put(...)"),
        Case("kv.delete('k')", "KV.delete: call it as a method with a colon: kv:delete(key), not kv.delete(...)"),
        Case("kv.list()", "KV.list: call it as a method with a colon: kv:list(options?), not kv.list(...)"),
        Case("kv.put({}, 'k', 'v')", "KV.put: call it as a method with a colon: kv:put(key, value, options?), not kv.put(...)"),
        // keys
        Case("kv:put(nil, 'v')", "KV.put: key must be a string, got nil"),
        Case("kv:put(42, 'v')", "KV.put: key must be a string, got number"),
        Case("kv:put(true, 'v')", "KV.put: key must be a string, got boolean"),
        Case("kv:put('', 'v')", "KV.put: key must not be empty"),
        Case("kv:put(\(long513), 'v')", "KV.put: key exceeds 512 bytes (got 513)"),
        Case("kv:put('.', 'v')", "KV.put: key must not be \".\" or \"..\""),
        Case("kv:put('..', 'v')", "KV.put: key must not be \".\" or \"..\""),
        Case("kv:put('\\255', 'v')", "KV.put: key must be valid UTF-8"),
        Case("kv:get(nil)", "KV.get: key must be a string, got nil"),
        Case("kv:get(\(long513))", "KV.get: key exceeds 512 bytes (got 513)"),
        Case("kv:getWithMetadata(12)", "KV.getWithMetadata: key must be a string, got number"),
        Case("kv:getWithMetadata('')", "KV.getWithMetadata: key must not be empty"),
        Case("kv:delete(false)", "KV.delete: key must be a string, got boolean"),
        Case("kv:delete(\(long513))", "KV.delete: key exceeds 512 bytes (got 513)"),
        // values
        Case("kv:put('k')", "KV.put: value must be a string or table, got nil"),
        Case("kv:put('k', nil)", "KV.put: value must be a string or table, got nil"),
        Case("kv:put('k', true)", "KV.put: value must be a string or table, got boolean"),
        Case("kv:put('k', print)", "KV.put: value must be a string or table, got function"),
        Case("kv:put('k', coroutine.create(print))", "KV.put: value must be a string or table, got thread"),
        Case("kv:put('k', io.stdout)", "KV.put: value must be a string or table, got userdata"),
        Case("kv:put('k', json.null)", "KV.put: value must be a string or table, got json.null"),
        Case("kv:put('k', { f = print })", "KV.put: value cannot be encoded as JSON: cannot encode a function (at value.f)"),
        Case("local t = {}; t.self = t; kv:put('k', t)", "KV.put: value cannot be encoded as JSON: cyclic table"),
        Case("kv:put('k', { 0/0 })", "KV.put: value cannot be encoded as JSON: cannot encode NaN as JSON (at value[1])"),
        Case("kv:put('k', string.rep('x', 25 * 1024 * 1024 + 1))", "KV.put: value exceeds 26214400 bytes (got 26214401)"),
        // options
        Case("kv:put('k', 'v', 60)", "KV.put: options must be a table, got number"),
        Case("kv:put('k', 'v', { 3600 })", "KV.put: options must be a table of named options (found a number key)"),
        Case("kv:put('k', 'v', { expirationTTL = 60 })", "KV.put: unknown option \"expirationTTL\" (did you mean \"expirationTtl\"?); valid options are expiration, expirationTtl, metadata"),
        Case("kv:put('k', 'v', { ttl = 60 })", "KV.put: unknown option \"ttl\"; valid options are expiration, expirationTtl, metadata"),
        Case("kv:put('k', 'v', { expires = 60 })", "KV.put: unknown option \"expires\"; valid options are expiration, expirationTtl, metadata"),
        Case("kv:put('k', 'v', { metdata = {} })", "KV.put: unknown option \"metdata\" (did you mean \"metadata\"?); valid options are expiration, expirationTtl, metadata"),
        Case("kv:put('k', 'v', { expirationTtl = '60' })", "KV.put: expirationTtl must be a number, got string"),
        Case("kv:put('k', 'v', { expirationTtl = 0 })", "KV.put: expirationTtl must be a positive integer number of seconds (got 0)"),
        Case("kv:put('k', 'v', { expirationTtl = -5 })", "KV.put: expirationTtl must be a positive integer number of seconds (got -5)"),
        Case("kv:put('k', 'v', { expirationTtl = 1.5 })", "KV.put: expirationTtl must be a positive integer number of seconds (got 1.5)"),
        Case("kv:put('k', 'v', { expirationTtl = 0/0 })", "KV.put: expirationTtl must be a positive integer number of seconds (got NaN)"),
        Case("kv:put('k', 'v', { expirationTtl = math.huge })", "KV.put: expirationTtl must be a positive integer number of seconds (got inf)"),
        // Issue 10, item 8: an integer is shown as the integer, not as a float.
        Case("kv:put('k', 'v', { expirationTtl = math.maxinteger // 2 })", "KV.put: expirationTtl must be a positive integer number of seconds (got 4611686018427387903)"),
        Case("kv:put('k', 'v', { expiration = math.mininteger })", "KV.put: expiration must be a positive integer number of seconds (got -9223372036854775808)"),
        Case("kv:put('k', 'v', { expiration = 'tomorrow' })", "KV.put: expiration must be a number, got string"),
        Case("kv:put('k', 'v', { expiration = 1000 })", "KV.put: expiration must be in the future (got 1000, now NOW); use expirationTtl for a relative time"),
        Case("kv:put('k', 'v', { expiration = -1 })", "KV.put: expiration must be a positive integer number of seconds (got -1)"),
        Case("kv:put('k', 'v', { metadata = { f = print } })", "KV.put: metadata cannot be encoded as JSON: cannot encode a function (at value.f)"),
        Case("kv:put('k', 'v', { metadata = { s = string.rep('m', 1100) } })", "KV.put: metadata exceeds 1024 bytes when serialised (got 1108)"),
        // get types and bulk get
        Case("kv:get('k', 'xml')", "KV.get: type must be \"text\", \"json\" or \"arrayBuffer\" (got \"xml\")"),
        Case("kv:get('k', 'stream')", "KV.get: type must be \"text\", \"json\" or \"arrayBuffer\" (got \"stream\")"),
        Case("kv:get('k', 1)", "KV.get: type must be \"text\", \"json\" or \"arrayBuffer\" (got a number)"),
        Case("kv:getWithMetadata('k', 'blob')", "KV.getWithMetadata: type must be \"text\", \"json\" or \"arrayBuffer\" (got \"blob\")"),
        Case("kv:get({})", "KV.get: keys must not be empty"),
        Case("local t = {}; for i = 1, 101 do t[i] = 'k' .. i end; kv:get(t)", "KV.get: too many keys (got 101, at most 100)"),
        Case("kv:get({ 'a', 2 })", "KV.get: keys[2] must be a string, got number"),
        Case("kv:get({ 'a', \(long513) })", "KV.get: key exceeds 512 bytes (got 513)"),
        Case("kv:getWithMetadata({ 'a', {} })", "KV.getWithMetadata: keys[2] must be a string, got table"),
        // list
        Case("kv:list('post:')", "KV.list: options must be a table, got string"),
        Case("kv:list({ limit = 0 })", "KV.list: limit must be an integer from 1 to 1000 (got 0)"),
        Case("kv:list({ limit = 1001 })", "KV.list: limit must be an integer from 1 to 1000 (got 1001)"),
        Case("kv:list({ limit = 2.5 })", "KV.list: limit must be an integer from 1 to 1000 (got 2.5)"),
        Case("kv:list({ limit = '10' })", "KV.list: limit must be a number, got string"),
        Case("kv:list({ prefix = 5 })", "KV.list: prefix must be a string, got number"),
        Case("kv:list({ cursor = true })", "KV.list: cursor must be a string, got boolean"),
        Case("kv:list({ perfix = 'a' })", "KV.list: unknown option \"perfix\" (did you mean \"prefix\"?); valid options are prefix, limit, cursor"),
        Case("kv:list({ limt = 5 })", "KV.list: unknown option \"limt\" (did you mean \"limit\"?); valid options are prefix, limit, cursor"),
        Case("kv:list({ prefix = \(long513) })", "KV.list: prefix exceeds 512 bytes (got 513)"),
        // namespaces
        Case("KV.namespace()", "KV.namespace: name must be a string, got nil"),
        Case("KV.namespace(42)", "KV.namespace: name must be a string, got number"),
        Case("KV:namespace('x')", "KV.namespace: name must be a string, got table (call KV.namespace(name) with a dot)"),
        Case("KV.namespace('')", "KV.namespace: namespace name must not be empty"),
        Case("KV.namespace(string.rep('n', 513))", "KV.namespace: namespace name exceeds 512 bytes (got 513)"),
    ]

    @Test(arguments: Backend.allCases, cases)
    func errorCase(_ backend: Backend, _ c: Case) throws {
        let h = try LuaHarness(backend)
        let message = try h.errorMessage("local kv = KV.namespace('errors')\n" + c.lua)
        let expected = c.message.replacingOccurrences(of: "NOW", with: "\(h.clock.nowSeconds())")
        #expect(message == expected)
        #expect(try h.keys("errors").isEmpty, "a failed call wrote nothing")
    }

    @Test(arguments: Backend.allCases)
    func failedPutKeepsThePreviousValue(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("""
            local kv = KV.namespace('errors')
            kv:put('k', 'old', { metadata = { v = 1 } })
            for _, bad in ipairs({
                function() kv:put('k', true) end,
                function() kv:put('k', 'new', { expirationTTL = 60 }) end,
                function() kv:put('k', 'new', { expirationTtl = 0 }) end,
                function() kv:put('k', 'new', { metadata = { s = string.rep('m', 2000) } }) end,
                function() kv:put('k', { print }) end,
            }) do
                local ok, err = pcall(bad)
                assert(not ok and err:find('^KV%.put: '), err)
            end
            local v, meta = kv:getWithMetadata('k')
            assert(v == 'old' and meta.metadata.v == 1 and meta.expiration == nil)
            """)
        #expect(try h.keys("errors") == ["k"])
    }

    @Test(arguments: Backend.allCases)
    func jsonReadOfNonJSONNamesTheKey(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        try h.run("KV.namespace('errors'):put('config', 'not json')")
        #expect(try h.errorMessage("KV.namespace('errors'):get('config', 'json')")
                == "KV.get: value of key \"config\" is not valid JSON: invalid literal at byte 0")
        #expect(try h.errorMessage("KV.namespace('errors'):getWithMetadata('config', 'json')")
                == "KV.getWithMetadata: value of key \"config\" is not valid JSON: invalid literal at byte 0")
        #expect(try h.errorMessage("KV.namespace('errors'):get({ 'config' }, 'json')")
                == "KV.get: value of key \"config\" is not valid JSON: invalid literal at byte 0")
        #expect(try h.keys("errors") == ["config"])
    }

    @Test func badCursor() throws {
        let h = try LuaHarness(.memory)
        let message = try #require(try h.errorMessage("KV.namespace('errors'):list({ cursor = 'garbage!' })"))
        #expect(message.hasPrefix("KV.list: "))
        #expect(message.contains("cursor"))
    }

    @Test func errorsAreCatchableAndCarryNoPosition() throws {
        let h = try LuaHarness(.memory)
        // A caught error starts with the method; an uncaught one reaches Swift with a traceback.
        do {
            try h.run("local kv = KV.namespace('x')\n\nkv:put('k', false)", name: "scripts/put.lua")
            Issue.record("expected an error")
        } catch let error as LuaError {
            #expect(error.message == "KV.put: value must be a string or table, got boolean")
            #expect(error.traceback?.contains("scripts/put.lua:3: in main chunk") == true)
        }
    }
}
