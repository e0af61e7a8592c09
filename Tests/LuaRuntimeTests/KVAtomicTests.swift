import KVCore
import LuaRuntime
import Testing

/// `KV.atomic()`, `kv:increment` and the `version` of `getWithMetadata`, from Lua.
@Suite struct KVAtomicTests {
    /// The issue's example, exactly as written, after the reads it relies on.
    static let issueExample = """
        local users, emails = KV.namespace("users"), KV.namespace("emails")
        local ok, version = KV.atomic()
            :check(emails, "alice@example.com", nil)      -- must be absent
            :check(users, "u:1", info.version)            -- must be unchanged since read
            :put(users, "u:1", json.encode(user), { metadata = { v = 2 } })
            :put(emails, "alice@example.com", "u:1")
            :delete(users, "u:1:draft")
            :sum(users, "count", 1)
            :commit()
        """

    @Test(arguments: Backend.allCases)
    func theIssueExampleRunsAsWritten(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        let results = try h.run("""
            KV.namespace("users"):put("u:1", '{"name":"Alice"}', { metadata = { v = 1 } })
            KV.namespace("users"):put("u:1:draft", "draft")
            local _, info = KV.namespace("users"):getWithMetadata("u:1")
            local user = { name = "Alice", email = "alice@example.com" }
            \(Self.issueExample)
            assert(ok == true and type(version) == "string" and #version == 16, tostring(version))
            local _, after = users:getWithMetadata("u:1")
            assert(after.version == version and after.version > info.version)
            assert(after.metadata.v == 2)
            assert(emails:get("alice@example.com") == "u:1")
            assert(users:get("u:1:draft") == nil)
            assert(users:get("count") == "1")
            -- again: the email is taken, so the commit fails and writes nothing
            local again = KV.atomic():check(emails, "alice@example.com", nil):put(emails, "alice@example.com", "u:2"):commit()
            return again, emails:get("alice@example.com"), users:get("count")
            """)
        #expect(results == [.boolean(false), .string("u:1"), .string("1")])
    }

    @Test(arguments: Backend.allCases)
    func getWithMetadataAddsOnlyTheVersion(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        let results = try h.run("""
            local kv = KV.namespace("v")
            kv:put("k", "a", { metadata = { x = 1 } })
            local _, first = kv:getWithMetadata("k")
            kv:put("k", "a", { metadata = { x = 1 } })
            local _, second = kv:getWithMetadata("k")
            local fields = {}
            for name in pairs(second) do fields[#fields + 1] = name end
            table.sort(fields)
            local bulk = kv:getWithMetadata({ "k" })
            return table.concat(fields, ","), first.version ~= second.version, second.version > first.version,
                   bulk.k.version == second.version
            """)
        #expect(results == [.string("metadata,version"), .boolean(true), .boolean(true), .boolean(true)])
    }

    @Test(arguments: Backend.allCases)
    func incrementReturnsTheNewIntegerAndCheckAndSetLoops(_ backend: Backend) throws {
        let h = try LuaHarness(backend)
        let results = try h.run("""
            local stats = KV.namespace("stats")
            local a = stats:increment("visits")
            local b = stats:increment("visits", 10)
            local c = stats:increment("visits", -3)
            repeat
              local value, info = stats:getWithMetadata("likes")
              local n = tonumber(value or "0") + 1
              local ok = KV.atomic():check(stats, "likes", info and info.version):put(stats, "likes", tostring(n)):commit()
            until ok
            local tx = KV.atomic()
            tx:sum(stats, "likes", 2)
            tx:sum(stats, "likes", 3.0)
            assert(tx:commit())
            return a, b, c, math.type(c), stats:get("visits"), stats:get("likes")
            """)
        #expect(results == [.integer(1), .integer(11), .integer(8), .string("integer"), .string("8"), .string("6")])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let lua: String
        let message: String
        var testDescription: String { lua }
        init(_ lua: String, _ message: String) { self.lua = lua; self.message = message }
    }

    static let cases: [Case] = [
        Case("KV.atomic():put(kv, string.rep('k', 513), 'v')", "KV.atomic:put: key exceeds 512 bytes (got 513)"),
        Case("KV.atomic():put(kv, 'k', true)", "KV.atomic:put: value must be a string or table, got boolean"),
        Case("KV.atomic():put(kv, 'k', 'v', { expirationTTL = 60 })",
             "KV.atomic:put: unknown option \"expirationTTL\" (did you mean \"expirationTtl\"?); valid options are expiration, expirationTtl, metadata"),
        Case("KV.atomic():put(kv, 'k', 'v', { expirationTtl = 0 })", "KV.atomic:put: expirationTtl must be a positive integer number of seconds (got 0)"),
        Case("KV.atomic():put('errors', 'k', 'v')", "KV.atomic:put: namespace must be a namespace from KV.namespace(name), got string"),
        Case("KV.atomic():delete(kv, '')", "KV.atomic:delete: key must not be empty"),
        Case("KV.atomic():check(kv, 'k')", "KV.atomic:check: version must be given: a version from getWithMetadata, or nil for \"must be absent\""),
        Case("KV.atomic():check(kv, 'k', 12)", "KV.atomic:check: version must be a string or nil, got number"),
        Case("KV.atomic():check(kv, 'k', 'v1')",
             "KV.atomic:check: version must be a version string from getWithMetadata or commit, or nil (got \"v1\")"),
        Case("KV.atomic():sum(kv, 'k')", "KV.atomic:sum: n must be an integer, got nil"),
        Case("KV.atomic():sum(kv, 'k', 1.5)", "KV.atomic:sum: n must be an integer (got 1.5)"),
        Case("KV.atomic().put(kv, 'k', 'v')", "KV.atomic:put: call it as a method with a colon: atomic:put(namespace, key, value, options?), not atomic.put(...)"),
        Case("kv:increment('k', 'one')", "KV.increment: n must be an integer, got string"),
        Case("kv.increment('k')", "KV.increment: call it as a method with a colon: kv:increment(key, n?), not kv.increment(...)"),
        Case("kv:put('name', 'alice') kv:increment('name')",
             "KV.increment: value of key \"name\" is not a 64-bit decimal integer, cannot add to it"),
        Case("kv:put('n', '9223372036854775807') kv:increment('n')",
             "KV.increment: counter \"n\" would overflow 64 bits (9223372036854775807 + 1)"),
        Case("kv:put('n', 'x') KV.atomic():put(kv, 'side', 'effect'):sum(kv, 'n', 1):commit()",
             "KV.atomic:commit: value of key \"n\" is not a 64-bit decimal integer, cannot add to it"),
        Case("local tx = KV.atomic() for i = 1, 101 do tx:check(kv, 'c' .. i, nil) end",
             "KV.atomic:check: too many checks in one atomic commit (got 101, at most 100)"),
        Case("local tx = KV.atomic() for i = 1, 1001 do tx:delete(kv, 'd' .. i) end",
             "KV.atomic:delete: too many mutations in one atomic commit (got 1001, at most 1000)"),
    ]

    @Test(arguments: Backend.allCases, cases)
    func errorCase(_ backend: Backend, _ c: Case) throws {
        let h = try LuaHarness(backend)
        let message = try h.errorMessage("local kv = KV.namespace('errors')\n" + c.lua)
        #expect(message == c.message)
        #expect(try h.keys("errors").allSatisfy { $0 == "name" || $0 == "n" }, "a failed call wrote nothing")
    }
}
