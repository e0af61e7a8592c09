import KVCore
import LuaRuntime
import Testing

/// The state wrapper the server uses: environments per file, calls with Swift values,
/// results back as `LuaValue`, errors with tracebacks, `fail`, and flat memory.
@Suite struct RuntimeTests {
    @Test func environmentsDoNotLeak() throws {
        let h = try LuaHarness(.memory, files: [
            "src/routes/a/+server.lua": "counter = 0\nfunction GET() counter = counter + 1; return 'a', counter end",
            "src/routes/b/+server.lua": "function GET() return 'b', counter end\nshared_from_b = true",
        ])
        let a = try h.runtime.loadEnvironment(file: "src/routes/a/+server.lua")
        let b = try h.runtime.loadEnvironment(file: "src/routes/b/+server.lua")
        #expect(try a.call("GET") == [.string("a"), .integer(1)])
        #expect(try a.call("GET") == [.string("a"), .integer(2)])
        #expect(try b.call("GET") == [.string("b"), .nil])
        #expect(try h.runtime.global("GET") == .nil)
        #expect(try h.runtime.global("counter") == .nil)
        #expect(try a.value("shared_from_b") == .nil)
        #expect(try b.value("shared_from_b") == .boolean(true))
        #expect(!a.hasFunction("POST"))
        #expect(throws: LuaError.self) { try a.call("POST") }
    }

    @Test func valuesCrossBothWays() throws {
        let h = try LuaHarness(.memory)
        let env = try h.runtime.loadEnvironment(source: """
            function echo(ctx)
                assert(ctx.params.id == "7" and ctx.list[3] == 3.5 and ctx.flag == true and ctx.bin == "a\\0b")
                assert(math.type(ctx.list[1]) == "integer" and ctx.null == json.null)
                return ctx, #ctx.list, { [1] = "x", [3] = "z", name = "mixed" }
            end
            """, path: "src/routes/echo.lua")
        let ctx = LuaValue.table(LuaTable(array: [], hash: [
            (.string("params"), .table(LuaTable([("id", .string("7"))]))),
            (.string("list"), .table(LuaTable(array: [.integer(1), .string("two"), .number(3.5)]))),
            (.string("flag"), .boolean(true)),
            (.string("bin"), .string([0x61, 0, 0x62])),
            (.string("null"), .jsonNull),
        ]))
        let results = try env.call("echo", arguments: [ctx])
        #expect(results.count == 3)
        #expect(results[0] == ctx)
        #expect(results[1] == .integer(3))
        let mixed = try #require(results[2].tableValue)
        #expect(mixed.array == [.string("x")])
        #expect(mixed[3] == .string("z"))
        #expect(mixed["name"] == .string("mixed"))
        #expect(try LuaJSON.jsonValue(results[2]).serializedString() == #"{"1":"x","3":"z","name":"mixed"}"#)
        #expect(try LuaJSON.jsonValue(ctx["list"]).serializedString() == #"[1,"two",3.5]"#)
    }

    @Test func cyclicResultsAreAnErrorNotACrash() throws {
        let h = try LuaHarness(.memory)
        #expect(throws: LuaError("cannot read a result: cyclic table")) {
            try h.run("local t = {}; t.t = t; return t")
        }
    }

    @Test func errorsCarryATraceback() throws {
        let h = try LuaHarness(.memory, files: [
            "src/routes/x/+server.lua": "local function inner()\n  error('boom')\nend\nfunction GET(ctx)\n  inner()\nend",
        ])
        let route = try h.runtime.loadEnvironment(file: "src/routes/x/+server.lua")
        do {
            try route.call("GET", arguments: [.table(LuaTable())])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "src/routes/x/+server.lua:2: boom")
            let traceback = try #require(error.traceback)
            #expect(traceback.hasPrefix("stack traceback:"))
            #expect(traceback.contains("src/routes/x/+server.lua:2: in "))
            #expect(traceback.contains("src/routes/x/+server.lua:5: in function 'GET'") || traceback.contains("src/routes/x/+server.lua:5: in "))
        }
        #expect(throws: LuaError.self) { try h.run("error({ code = 1 })") }
        do { try h.run("error(setmetatable({}, { __tostring = function() return 'custom' end }))") } catch let e as LuaError {
            #expect(e.message == "custom")
        }
        do { try h.run("error({})") } catch let e as LuaError {
            #expect(e.message == "(error object is a table value)")
        }
        do { try h.run("local x = ", name: "src/bad.lua") } catch let e as LuaError {
            #expect(e.message.hasPrefix("src/bad.lua:1:"))
        }
        // The state is still usable after errors.
        #expect(try h.run("return 1 + 1") == [.integer(2)])
    }

    @Test func failBuildsAFailureTable() throws {
        let h = try LuaHarness(.memory)
        let r = try h.run("return fail(400, { error = 'bad', fields = { 'title' } }), fail(422), fail(404, { status = 1 })")
        #expect(r[0]["status"] == .integer(400))
        #expect(r[0]["error"] == .string("bad"))
        #expect(r[0]["fields"].tableValue?.array == [.string("title")])
        #expect(r[1] == .table(LuaTable([("status", .integer(422))])))
        #expect(r[2]["status"] == .integer(404))
        #expect(try h.errorMessage("fail('400')") == "fail: status must be an integer HTTP status, got string")
        #expect(try h.errorMessage("fail(4000)") == "fail: status must be an integer HTTP status from 100 to 599 (got 4000)")
        #expect(try h.errorMessage("fail(400.5)") == "fail: status must be an integer HTTP status from 100 to 599 (got 400.5)")
        #expect(try h.errorMessage("fail(400, 'x')") == "fail: data must be a table, got string")
    }

    @Test func bulkGet() throws {
        let h = try LuaHarness(.sqlite)
        try h.run("""
            local kv = KV.namespace("bulk")
            kv:put("a", "1"); kv:put("b", '{"x":2}', { metadata = { m = true } })
            local got = kv:get({ "a", "b", "missing" })
            assert(got.a == "1" and got.b == '{"x":2}' and got.missing == nil)
            local js = kv:get({ "b" }, "json")
            assert(js.b.x == 2)
            local withMeta = kv:getWithMetadata({ "a", "b", "missing" })
            assert(withMeta.a.value == "1" and withMeta.a.metadata == nil and withMeta.b.metadata.m == true)
            assert(withMeta.missing == nil)
            local keys = {}
            for i = 1, 100 do keys[i] = "k" .. i end
            assert(next(kv:get(keys)) == nil)
            """)
    }

    @Test func printWritesThroughTheHandler() throws {
        let h = try LuaHarness(.memory)
        try h.run("print('a', 1, 2.5, nil, true, json.null ~= nil)\nprint()")
        #expect(h.output.text == "a\t1\t2.5\tnil\ttrue\ttrue\n\n")
    }

    @Test func kvGetMemoryStaysFlat() throws {
        let h = try LuaHarness(.memory)
        try h.run("""
            local kv = KV.namespace("mem")
            kv:put("hot", string.rep("v", 100))
            function loop(n)
                local get, count = kv.get, 0
                for i = 1, n do
                    if get(kv, "hot") then count = count + 1 end
                end
                assert(count == n)
                return count
            end
            """)
        // Warm up, then measure rounds of 1,000,000 calls. Other suites run in parallel in
        // this process (opening and closing SQLite stores, each with its connections and
        // read-lock anchor thread), so several rounds in a row may see their allocations; a
        // leak would show in every round (one byte per call is 1 MB per round), so the
        // quietest of up to 12 rounds is judged.
        try h.run("loop(100000)")
        h.runtime.collectGarbage()
        let luaBefore = h.runtime.memoryInUseKilobytes
        var growths: [Int] = []
        let clock = ContinuousClock()
        var rate = 0
        for _ in 0..<12 {
            let before = residentBytes()
            let elapsed = try clock.measure { try h.run("loop(1000000)") }
            h.runtime.collectGarbage()
            growths.append(residentBytes() - before)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rate = max(rate, Int(1_000_000 / seconds))
            if growths.last! < 1024 * 1024 { break }
        }
        let luaAfter = h.runtime.memoryInUseKilobytes
        print("kv:get x 1,000,000 per round: RSS growth per round \(growths.map { "\($0 / 1024) KiB" }), Lua heap \(luaBefore) KiB -> \(luaAfter) KiB, \(rate) calls/s")
        #expect(growths.min()! < 1024 * 1024, "resident memory grew in every round: \(growths)")
        #expect(luaAfter - luaBefore < 256)
    }
}
