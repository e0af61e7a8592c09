import Foundation
import Synchronization
import Testing

/// Generated KV calls from Lua with arguments of every Lua type and at every boundary, seeded
/// and reproducible, each compared with a model of the namespace kept by the script: a call
/// either fails with a clear `KV.` error and changes nothing, or does exactly what the model
/// says, read back at once; lists are sorted, unique and complete. Runs in real `luat run`
/// processes on one SQLite file. A planted fault in the model comparison must be reported.
@Suite("Generated KV calls from Lua", .serialized)
struct GeneratedKVCallTests {
    /// `luat run fuzz.lua SEED CALLS NAMESPACE [planted]`; prints `FUZZ calls=… ok=… errors=…
    /// mismatches=… checks=… big=…` last, and the first mismatches on stderr.
    static let script = #"""
        io.stdout:setvbuf("full")
        local seed, calls, nsname, planted = tonumber(arg[1]), tonumber(arg[2]), arg[3], arg[4] == "planted"
        math.randomseed(seed)
        local R = math.random
        local kv = KV.namespace(nsname)
        local model = {}
        local stats = { calls = 0, ok = 0, errors = 0, mismatches = 0, checks = 0, big = 0 }
        local MAX_VALUE = 26214400

        local function show(v)
            if type(v) == "string" then
                if #v > 40 then return string.format("%q.. (%d bytes)", v:sub(1, 40), #v) end
                return string.format("%q", v)
            end
            return tostring(v)
        end
        local function mismatch(fmt, ...)
            stats.mismatches = stats.mismatches + 1
            if stats.mismatches <= 10 then io.stderr:write("MISMATCH ", string.format(fmt, ...), "\n") end
        end
        local function asJSON(v)
            local ok, text = pcall(json.encode, v)
            return ok and show(text) or tostring(v)
        end
        local function deepEqual(a, b)
            if type(a) ~= type(b) then return false end
            if type(a) ~= "table" then return a == b end
            for k, v in pairs(a) do if not deepEqual(v, b[k]) then return false end end
            for k in pairs(b) do if a[k] == nil then return false end end
            return true
        end
        local function validKey(k)
            return type(k) == "string" and #k >= 1 and #k <= 512 and k ~= "." and k ~= ".." and utf8.len(k) ~= nil
        end
        local function live(entry)
            return entry ~= nil and (entry.exp == nil or entry.exp > os.time() + 2)
        end
        local function nearExpiry(entry)
            return entry ~= nil and entry.exp ~= nil and entry.exp <= os.time() + 2
        end

        -- Generators ---------------------------------------------------------------
        local co = coroutine.create(function() end)
        local function other()
            local r = R(14)
            if r == 1 then return nil elseif r == 2 then return true elseif r == 3 then return false
            elseif r == 4 then return 0 elseif r == 5 then return -1 elseif r == 6 then return 1.5
            elseif r == 7 then return 0/0 elseif r == 8 then return math.huge elseif r == 9 then return math.mininteger
            elseif r == 10 then return {} elseif r == 11 then return { "a", "b" } elseif r == 12 then return print
            elseif r == 13 then return co else return io.stdout end
        end
        local pool = {}
        for i = 1, 20 do pool[i] = "k" .. i end
        pool[#pool + 1] = "a/b?c=d&e"
        pool[#pool + 1] = " spaced key "
        pool[#pool + 1] = "ünïcødé"
        pool[#pool + 1] = "a\0b"
        local function genKey()
            local r = R(100)
            if r <= 72 then return pool[R(#pool)] end
            if r <= 75 then return string.rep("k", 511) .. tostring(R(9)) end
            if r <= 78 then return string.rep("k", 513) end
            if r <= 80 then return "" end
            if r == 81 then return "." end
            if r == 82 then return ".." end
            if r <= 84 then return string.rep("é", 256) end
            if r <= 85 then return string.rep("é", 256) .. "x" end
            if r <= 87 then return "bad\xff\xfeutf8" end
            if r <= 88 then return "\xc0\xaf" end
            return other()
        end
        local function bytes(n)
            local t = {}
            for i = 1, n do t[i] = string.char(R(0, 255)) end
            return table.concat(t)
        end
        local function genValue()
            local r = R(1000)
            if r <= 520 then return "v" .. R(1000000) .. string.rep("x", R(0, 40)) end
            if r <= 570 then return "" end
            if r <= 650 then return bytes(R(0, 300)) end
            if r <= 720 then return { n = R(100), list = { 1, 2, "three" }, nested = { ok = true } } end
            if r <= 760 then return R(-1000, 1000) end
            if r <= 770 then return R() end
            if r <= 780 then local t = {}; t.self = t; return t end
            if r <= 790 then return { f = print } end
            if r <= 800 then return { [true] = 1 } end
            return other()
        end
        local function genMeta()
            local r = R(12)
            if r == 1 then return { s = string.rep("m", 1016) } end   -- 1,024 bytes as JSON
            if r == 2 then return { s = string.rep("m", 1017) } end   -- 1,025 bytes
            if r == 3 then local t = {}; t.t = t; return t end
            if r == 4 then return { f = print } end
            if r == 5 then return "plain" end
            if r == 6 then return 42 end
            if r == 7 then return { 0/0 } end
            if r == 8 then return other() end
            return { author = "a" .. R(100), n = R(1000), tags = { "x", "y" } }
        end
        local ttls = { 0, -1, 60, 3600, 86400 * 365 * 100, 1.5, 0/0, math.huge, -math.huge, math.maxinteger,
                       math.maxinteger // 2, 2^63, 2^53, "60", true, {} }
        local function genOptions()
            local r = R(100)
            if r <= 55 then return nil end
            if r <= 68 then return { metadata = genMeta() } end
            if r <= 78 then return { expirationTtl = ttls[R(#ttls)] } end
            if r <= 84 then
                local e = { os.time() + 3600, os.time() - 10, 0, -5, os.time() + 0.5, math.maxinteger, "soon", os.time() }
                return { expiration = e[R(#e)] }
            end
            if r <= 88 then return { metadata = genMeta(), expirationTtl = ttls[R(#ttls)] } end
            if r <= 91 then return { expirationTTL = 60 } end
            if r <= 94 then return { "positional" } end
            return other()
        end
        local function genListOptions()
            local r = R(100)
            if r <= 25 then return nil end
            if r <= 45 then return { prefix = ({ "k", "k1", "", "ü", "zzz", "a\0" })[R(6)] } end
            if r <= 65 then return { limit = ({ 1, 2, 5, 999, 1000, 1001, 0, -1, 1.5, "10", 0/0 })[R(11)] } end
            if r <= 75 then return { prefix = "k", limit = R(1, 30) } end
            if r <= 85 then return { cursor = ({ "garbage", "", "eyJrIjoxfQ==", string.rep("c", 5000) })[R(4)] } end
            if r <= 90 then return { prefix = other() } end
            if r <= 95 then return { limits = 10 } end
            return other()
        end

        -- Checks ------------------------------------------------------------------
        local function clearError(err, method)
            if type(err) ~= "string" then mismatch("%s raised a %s, not a message", method, type(err)); return end
            if not err:find("KV%.") then mismatch("%s error does not name KV: %s", method, show(err)) end
            if #err > 2000 then mismatch("%s error is %d bytes long", method, #err) end
        end
        -- The stored state of `key` matches the model (value and metadata).
        local function agrees(key, where)
            if not validKey(key) then return end
            stats.checks = stats.checks + 1
            local entry = model[key]
            local ok, value, meta = pcall(kv.getWithMetadata, kv, key)
            if not ok then mismatch("%s: getWithMetadata(%s) failed: %s", where, show(key), show(value)); return end
            if nearExpiry(entry) then return end
            if not live(entry) then
                if value ~= nil then mismatch("%s: %s should be absent, holds %s", where, show(key), show(value)) end
                return
            end
            if value ~= entry.value then
                mismatch("%s: %s holds %s, expected %s", where, show(key), show(value), show(entry.value))
            elseif not deepEqual(meta and meta.metadata, entry.meta) then
                mismatch("%s: metadata of %s is %s, model %s", where, show(key), asJSON(meta and meta.metadata), asJSON(entry.meta))
            end
        end
        local function sortedUnique(keys, where)
            for i = 2, #keys do
                if not (keys[i - 1].name < keys[i].name) then
                    mismatch("%s: list not sorted or repeated at %d: %s then %s", where, i, show(keys[i - 1].name), show(keys[i].name))
                    return false
                end
            end
            return true
        end
        local function expectedNames(prefix)
            local names = {}
            for key, entry in pairs(model) do
                if live(entry) and key:sub(1, #prefix) == prefix then names[#names + 1] = key end
            end
            table.sort(names)
            return names
        end
        local function fullCheck()
            local names, cursor = {}, nil
            repeat
                local ok, page = pcall(kv.list, kv, { limit = R(1, 1000), cursor = cursor })
                if not ok then mismatch("full list failed: %s", show(page)); return end
                sortedUnique(page.keys, "full list page")
                for _, k in ipairs(page.keys) do
                    if #names > 0 and not (names[#names] < k.name) then mismatch("full list: pages overlap at %s", show(k.name)) end
                    names[#names + 1] = k.name
                end
                cursor = page.cursor
            until page.list_complete
            local expected = expectedNames("")
            if #names ~= #expected then mismatch("full list: %d keys, model has %d", #names, #expected) end
            for i = 1, math.min(#names, #expected) do
                if names[i] ~= expected[i] then mismatch("full list: key %d is %s, model %s", i, show(names[i]), show(expected[i])); break end
            end
            for key in pairs(model) do agrees(key, "full check") end
        end

        -- The calls -----------------------------------------------------------------
        local function put(key, value, options)
            local ok, err = pcall(kv.put, kv, key, value, options)
            stats.calls = stats.calls + 1
            local plain = type(key) == "string" and validKey(key) and type(value) == "string" and #value <= MAX_VALUE and options == nil
            if ok then
                stats.ok = stats.ok + 1
                if not validKey(key) then mismatch("put accepted key %s", show(key)) return end
                local stored
                if type(value) == "string" then stored = value
                elseif type(value) == "number" then stored = tostring(value)
                elseif type(value) == "table" then stored = nil
                else mismatch("put accepted a %s value", type(value)) return end
                if type(value) == "string" and #value > MAX_VALUE then mismatch("put accepted a %d-byte value", #value) end
                local meta = nil
                if type(options) == "table" then meta = options.metadata end
                local exp = nil
                if type(options) == "table" then
                    if options.expirationTtl ~= nil then exp = os.time() + math.floor(tonumber(options.expirationTtl) or 0)
                    elseif options.expiration ~= nil then exp = math.floor(tonumber(options.expiration) or 0) end
                end
                if stored == nil then
                    -- A table is stored as its JSON text: what reads back decodes to the table.
                    local back = kv:get(key, "json")
                    stats.checks = stats.checks + 1
                    if not deepEqual(back, value) then mismatch("table value of %s does not read back", show(key)) end
                    stored = kv:get(key)
                end
                -- The metadata as JSON would give it back (`false` included, so no `and`/`or` here).
                if meta ~= nil then meta = json.decode(json.encode(meta)) end
                model[key] = { value = stored, meta = meta, exp = exp }
                agrees(key, "after put")
            else
                stats.errors = stats.errors + 1
                clearError(err, "put")
                if plain then mismatch("put(%s, %d bytes) refused: %s", show(key), #value, show(err)) end
                agrees(key, "after a refused put")
            end
        end

        local function bigValue()
            -- At the value limit it is stored and reads back whole; one byte over is refused.
            stats.big = stats.big + 1
            local key = "big" .. R(3)
            local exact = string.rep("B", MAX_VALUE - 8) .. string.format("%08d", R(99999999))
            put(key, exact)
            put(key, exact .. "!")
            local ok = pcall(kv.delete, kv, key)
            stats.calls = stats.calls + 1
            if ok then model[key] = nil end
        end

        local bigEvery = math.max(1, calls // 4)
        for n = 1, calls do
            if n % bigEvery == 0 then bigValue() end
            local r = R(100)
            if r <= 45 then
                put(genKey(), genValue(), genOptions())
            elseif r <= 60 then
                local key = genKey()
                local ok, value = pcall(kv.get, kv, key, ({ nil, "text", "json", "arrayBuffer", "xml", 5 })[R(6)])
                stats.calls = stats.calls + 1
                if ok then stats.ok = stats.ok + 1 else stats.errors = stats.errors + 1; clearError(value, "get") end
                if not ok and validKey(key) and type(value) == "string" and not value:find("type") and not value:find("JSON") then
                    mismatch("get(%s) refused: %s", show(key), value)
                end
                agrees(key, "get")
            elseif r <= 70 then
                local key = genKey()
                local ok, err = pcall(kv.delete, kv, key)
                stats.calls = stats.calls + 1
                if ok then
                    stats.ok = stats.ok + 1
                    if not validKey(key) then mismatch("delete accepted key %s", show(key)) end
                    if not planted then model[key] = nil end
                else
                    stats.errors = stats.errors + 1
                    clearError(err, "delete")
                    if validKey(key) then mismatch("delete(%s) refused: %s", show(key), show(err)) end
                end
                agrees(key, "delete")
            elseif r <= 80 then
                local options = genListOptions()
                local ok, result = pcall(kv.list, kv, options)
                stats.calls = stats.calls + 1
                if ok then
                    stats.ok = stats.ok + 1
                    sortedUnique(result.keys, "list")
                    local prefix = type(options) == "table" and options.prefix or ""
                    local limit = type(options) == "table" and options.limit or 1000
                    if type(options) == "table" and options.cursor == nil and type(prefix) == "string" and math.type(limit) == "integer" then
                        local expected = expectedNames(prefix)
                        local want = math.min(#expected, limit)
                        if #result.keys ~= want then mismatch("list(prefix %s, limit %s): %d keys, model %d", show(prefix), show(limit), #result.keys, want) end
                        for i = 1, math.min(#result.keys, want) do
                            if result.keys[i].name ~= expected[i] then mismatch("list: key %d is %s, model %s", i, show(result.keys[i].name), show(expected[i])); break end
                            local entry = model[expected[i]]
                            if not deepEqual(result.keys[i].metadata, entry.meta) then mismatch("list: metadata of %s is %s, model %s", show(expected[i]), asJSON(result.keys[i].metadata), asJSON(entry.meta)) end
                        end
                        if #expected < limit and not result.list_complete then mismatch("list: not complete with %d of limit %d", #expected, limit) end
                        if #expected > limit and result.list_complete then mismatch("list: complete with %d keys beyond limit %d", #expected, limit) end
                    end
                else
                    stats.errors = stats.errors + 1
                    clearError(result, "list")
                end
            elseif r <= 90 then
                local key = genKey()
                local ok, value, meta = pcall(kv.getWithMetadata, kv, key, ({ nil, "text", "json" })[R(3)])
                stats.calls = stats.calls + 1
                if ok then stats.ok = stats.ok + 1 else stats.errors = stats.errors + 1; clearError(value, "getWithMetadata") end
            elseif r <= 95 then
                -- Namespaces: names of every type and size, and methods called without a namespace.
                local names = { "", string.rep("n", 512), string.rep("n", 513), "\xff", 5, nil, {}, nsname }
                local ok, err = pcall(KV.namespace, names[R(#names)])
                stats.calls = stats.calls + 1
                if ok then stats.ok = stats.ok + 1 else stats.errors = stats.errors + 1; clearError(err, "namespace") end
            else
                local ok, err = pcall(({ kv.get, kv.put, kv.delete, kv.list, kv.getWithMetadata })[R(5)], other(), genKey())
                stats.calls = stats.calls + 1
                if ok then mismatch("a KV method accepted a %s as its namespace", "non-namespace") ; stats.ok = stats.ok + 1
                else stats.errors = stats.errors + 1; clearError(err, "method without namespace") end
            end
            if n % 2000 == 0 then fullCheck() end
        end
        fullCheck()
        io.stdout:write(string.format("FUZZ calls=%d ok=%d errors=%d mismatches=%d checks=%d big=%d\n",
            stats.calls, stats.ok, stats.errors, stats.mismatches, stats.checks, stats.big))
        io.stdout:flush()
        """#

    struct Summary {
        var calls = 0, ok = 0, errors = 0, mismatches = 0, checks = 0, big = 0

        init() {}

        init?(_ output: String) {
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("FUZZ ") }) else { return nil }
            for field in line.dropFirst(5).split(separator: " ") {
                let parts = field.split(separator: "=")
                guard parts.count == 2, let value = Int(parts[1]) else { continue }
                switch parts[0] {
                case "calls": calls = value
                case "ok": ok = value
                case "errors": errors = value
                case "mismatches": mismatches = value
                case "checks": checks = value
                case "big": big = value
                default: break
                }
            }
        }
    }

    /// Runs the script in `processes` concurrent `luat run` processes on one file, each with
    /// its own seed and namespace.
    static func run(calls: Int, processes: Int, planted: Bool = false) throws -> (summaries: [Summary], results: [Luat.Result]) {
        let project = try TestProject(files: ["fuzz.lua": script])
        defer { project.remove() }
        let outcomes = Mutex<[Int: Result<Luat.Result, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: processes) { index in
            let seed = Luat.seed &+ UInt64(index) &* 1_000_003
            var arguments = ["run", "fuzz.lua", String(seed % 1_000_000_007), String(calls), "fuzz\(index)"]
            if planted { arguments.append("planted") }
            let outcome = Result { try Luat.run(arguments, in: project.root) }
            outcomes.withLock { $0[index] = outcome }
        }
        let finished = try outcomes.withLock { all in try all.keys.sorted().map { try all[$0]!.get() } }
        #expect(try StoreContents.integrity(project) == ["ok"])
        return (finished.compactMap { Summary($0.stdout) }, finished)
    }

    @Test func generatedCallsGetAClearErrorOrExactlyTheModelsAnswer() throws {
        let processes = 2
        let perProcess = Luat.scaled(50_000, minimum: 50_000)
        let (summaries, results) = try Self.run(calls: perProcess, processes: processes)
        for result in results {
            #expect(result.reason == .exit && result.status == 0, "luat run crashed or failed: \(result.stderr.prefix(2_000))")
        }
        try #require(summaries.count == processes, "\(results.map { $0.stderr.prefix(1_000) })")
        let total = summaries.reduce(into: Summary()) { sum, s in
            sum.calls += s.calls; sum.ok += s.ok; sum.errors += s.errors; sum.mismatches += s.mismatches
            sum.checks += s.checks; sum.big += s.big
        }
        #expect(total.mismatches == 0, "\(results.map { $0.stderr.prefix(2_000) })")
        #expect(total.calls >= 100_000)
        // Both kinds of answer are exercised, not only one.
        #expect(total.ok > total.calls / 5)
        #expect(total.errors > total.calls / 10)
        #expect(total.big >= 2)
        reportFigure("generated KV calls from Lua", total.calls,
                     "\(total.ok) succeeded, \(total.errors) refused with a clear error, \(total.checks) read-back checks, \(total.big * 2) values at the 25 MiB limit, seed \(Luat.seed)")
    }

    @Test func aPlantedFaultInTheModelComparisonIsReported() throws {
        // "planted": the model forgets deletes, so later reads and lists disagree with it.
        let (summaries, results) = try Self.run(calls: 3_000, processes: 1, planted: true)
        let summary = try #require(summaries.first, "\(results.first?.stderr.prefix(1_000) ?? "")")
        #expect(summary.mismatches > 0)
        #expect(results.first?.stderr.contains("MISMATCH") == true)
    }
}
