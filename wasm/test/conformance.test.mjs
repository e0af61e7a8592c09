// The native conformance expectations (Tests/KVConformanceTests) that apply to the in-memory
// backend, from Lua in the WASM engine: byte order, limits, pagination, expiration, isolation.
import { test, assert, Engine, manualClock, lua, errorMessage, keys } from './harness.mjs';

const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

test('keys come in UTF-8 byte order', async () => {
    const engine = await Engine.create();
    const input = ['é', 'z', 'a', 'Z', '😀', 'e\u0301', 'aa', 'a b', '~', 'ä'];
    lua(engine, `local kv = KV.namespace("order")
        for _, k in ipairs(json.decode(...)) do kv:put(k, k) end`.replace('...', JSON.stringify(JSON.stringify(input))));
    const listed = keys(engine, 'order');
    const expected = [...input].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(listed.map(hex), expected.map(hex));
    assert.ok(listed.indexOf('é') > listed.indexOf('z'));
    assert.equal(lua(engine, 'return KV.namespace("order"):get("e\\u{301}")').result, 'e\u0301');
});

test('prefix is literal and case-sensitive', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace("p")
        for _, k in ipairs({ "100%", "100%_done", "100x", "1000", "a_b", "axb", "a\\\\b", "a*", "abc", "User:1", "user:1", "user:2", "user:10" }) do kv:put(k, "v") end
        local function names(prefix)
            local out = {}
            for _, k in ipairs(kv:list({ prefix = prefix }).keys) do out[#out + 1] = k.name end
            return table.concat(out, ",")
        end
        assert(names("100%") == "100%,100%_done", names("100%"))
        assert(names("a_") == "a_b")
        assert(names("a\\\\") == "a\\\\b")
        assert(names("a*") == "a*")
        assert(names("user:") == "user:1,user:10,user:2")
        assert(names("nothing") == "")
        assert(#kv:list({ prefix = "" }).keys == 13)
        kv:put("\\u{10FFFF}", "v"); kv:put("\\u{10FFFF}a", "v")
        assert(names("\\u{10FFFF}") == "\\u{10FFFF},\\u{10FFFF}a")`);
});

test('paging through 2500 keys with writes between pages', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace("paging")
        local function key(i) return string.format("key:%05d", i) end
        for i = 0, 2499 do kv:put(key(i * 2), "v") end
        local page1 = kv:list({ limit = 1000 })
        assert(#page1.keys == 1000 and page1.list_complete == false)
        assert(page1.keys[1000].name == key(1998))
        assert(type(page1.cursor) == "string" and not page1.cursor:find("key:", 1, true), "the cursor is opaque")
        kv:delete(key(1998))
        for i = 2000, 2198, 2 do kv:delete(key(i)) end
        for i = 2001, 2099, 2 do kv:put(key(i), "new") end
        kv:put(key(1), "behind")
        local page2 = kv:list({ limit = 1000, cursor = page1.cursor })
        assert(#page2.keys == 1000 and page2.keys[1].name == key(2001) and not page2.list_complete)
        local page3 = kv:list({ limit = 1000, cursor = page2.cursor })
        assert(#page3.keys == 450 and page3.list_complete and page3.cursor == nil)
        assert(page3.keys[450].name == key(4998))
        local seen, last = {}, ""
        for _, page in ipairs({ page1, page2, page3 }) do
            for _, k in ipairs(page.keys) do
                assert(not seen[k.name], "listed twice: " .. k.name); seen[k.name] = true
                assert(k.name > last); last = k.name
            end
        end`);
});

test('expired keys inside a page never shorten it', async () => {
    const clock = manualClock();
    const engine = await Engine.create({ now: clock.now });
    lua(engine, `local kv = KV.namespace("mixed")
        for i = 0, 29 do
            kv:put(string.format("k%03d", i * 10), "live")
            for j = 1, 3 do kv:put(string.format("k%03d", i * 10 + j), "dies", { expirationTtl = 5 }) end
        end
        for i = 0, 39 do kv:put(string.format("z%03d", i), "dies", { expirationTtl = 5 }) end`);
    clock.advance(5);
    lua(engine, `local kv = KV.namespace("mixed")
        local cursor, counts, completes = nil, {}, {}
        repeat
            local page = kv:list({ limit = 7, cursor = cursor })
            counts[#counts + 1] = #page.keys
            completes[#completes + 1] = tostring(page.list_complete)
            for _, k in ipairs(page.keys) do assert(k.name:match("^k%d%d0$"), k.name) end
            cursor = page.cursor
        until cursor == nil
        assert(table.concat(counts, ",") == "7,7,7,7,2", table.concat(counts, ","))
        assert(table.concat(completes, ",") == "false,false,false,false,true")
        local exact = kv:list({ limit = 30 })
        assert(#exact.keys == 30 and exact.list_complete and exact.cursor == nil)
        local page = KV.namespace("n")
        for i = 0, 4 do page:put("k" .. i, "v") end
        local all = page:list({ limit = 5 })
        assert(#all.keys == 5 and all.list_complete and all.cursor == nil)
        local short = page:list({ limit = 4 })
        assert(#short.keys == 4 and not short.list_complete)
        local rest = page:list({ limit = 4, cursor = short.cursor })
        assert(#rest.keys == 1 and rest.keys[1].name == "k4" and rest.list_complete)`);
});

test('cursors are bound to namespace and prefix', async () => {
    const engine = await Engine.create();
    lua(engine, `local a, b = KV.namespace("a"), KV.namespace("b")
        for i = 0, 9 do a:put("p:" .. i, "v"); b:put("p:" .. i, "v") end
        local cursor = a:list({ prefix = "p:", limit = 3 }).cursor
        local function err(f) local ok, e = pcall(f); assert(not ok); return e end
        assert(err(function() b:list({ prefix = "p:", limit = 3, cursor = cursor }) end):find("cursor belongs to another namespace or prefix", 1, true))
        assert(err(function() a:list({ prefix = "p", limit = 3, cursor = cursor }) end):find("cursor belongs to another namespace or prefix", 1, true))
        assert(err(function() a:list({ prefix = "p:", cursor = "not a cursor!" }) end):find("cursor is malformed", 1, true))
        local page = a:list({ prefix = "p:", limit = 3, cursor = cursor })
        assert(page.keys[1].name == "p:3" and page.keys[3].name == "p:5")
        assert(a:list({ prefix = "p:", limit = 1, cursor = "" }).keys[1].name == "p:0")`);
});

test('limits: keys, namespace names, metadata, list limits', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace("keys")
        local longest = string.rep("k", 512)
        kv:put(longest, "ok")
        assert(kv:get(longest) == "ok")
        local ok, e = pcall(kv.put, kv, string.rep("k", 511) .. "é", "x")
        assert(e == "KV.put: key exceeds 512 bytes (got 513)", e)
        kv:put("...", "three dots are fine")
        kv:put("a/../b", "fine too")
        KV.namespace(string.rep("n", 512))
        local meta = { a = string.rep("x", 1024 - 8) }
        assert(#json.encode(meta) == 1024)
        kv:put("fits", "v", { metadata = meta })
        local _, m = kv:getWithMetadata("fits")
        assert(m.metadata.a == meta.a)
        ok, e = pcall(kv.put, kv, "over", "v", { metadata = { a = string.rep("x", 1025 - 8) } })
        assert(e == "KV.put: metadata exceeds 1024 bytes when serialised (got 1025)", e)
        assert(kv:get("over") == nil)
        assert(#kv:list({ limit = 1 }).keys == 1 and #kv:list({ limit = 1000 }).keys == 4)`);
    assert.equal(errorMessage(engine, 'KV.namespace("l"):list({ limit = 0/0 })'), 'KV.list: limit must be an integer from 1 to 1000 (got NaN)');
});

test('a 25 MiB value is accepted and one byte more is rejected', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace("big")
        local value = "\\0" .. string.rep("a", 26214400 - 2) .. "\\255"
        kv:put("max", value)
        assert(kv:get("max") == value)
        local ok, e = pcall(kv.put, kv, "over", value .. "x")
        assert(e == "KV.put: value exceeds 26214400 bytes (got 26214401)", e)
        assert(kv:get("over") == nil)
        kv:delete("max")`);
});

test('bulk get returns values in order with nil for missing', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace("bulk")
        kv:put("a", "1"); kv:put("c", '{"n":3}')
        local got = kv:get({ "a", "b", "c" })
        assert(got.a == "1" and got.b == nil and got.c == '{"n":3}')
        local j = kv:get({ "c" }, "json")
        assert(j.c.n == 3)`);
});

test('expiration: absolute and TTL against the engine clock; put replaces expiration and metadata', async () => {
    const clock = manualClock(1_800_000_000);
    const engine = await Engine.create({ now: clock.now });
    lua(engine, `local kv = KV.namespace("exp")
        kv:put("abs", "v", { expiration = 1800000010, metadata = { m = 1 } })
        kv:put("ttl", "v", { expirationTtl = 20 })
        local _, m = kv:getWithMetadata("abs")
        assert(m.expiration == 1800000010)`);
    clock.advance(10);
    assert.deepEqual(keys(engine, 'exp'), ['ttl']);
    lua(engine, `local kv = KV.namespace("exp")
        assert(kv:get("abs") == nil)
        kv:put("ttl", "v2")
        local v, m = kv:getWithMetadata("ttl")
        assert(v == "v2" and m.expiration == nil and m.metadata == nil)`);
    clock.advance(100);
    assert.deepEqual(keys(engine, 'exp'), ['ttl']);
});

test('engines are isolated: data, globals and modules', async () => {
    const [a, b] = await Promise.all([Engine.create(), Engine.create()]);
    lua(a, 'KV.namespace("shared"):put("k", "from a") x = 1');
    lua(b, 'KV.namespace("shared"):put("k", "from b")');
    assert.equal(lua(a, 'return KV.namespace("shared"):get("k")').result, 'from a');
    assert.equal(lua(b, 'return KV.namespace("shared"):get("k")').result, 'from b');
    assert.deepEqual(lua(b, 'return x').results, [null]);
    lua(a, 'KV.namespace("shared"):delete("k")');
    assert.equal(lua(b, 'return KV.namespace("shared"):get("k")').result, 'from b');
    a.writeFile('src/lib/m.lua', 'return "a"');
    assert.equal(lua(a, 'return require("m")').result, 'a');
    assert.match(b.run('return require("m")').error.message, /module "m" not found/);
});

test('data persists across calls of one engine', async () => {
    const engine = await Engine.create();
    for (let i = 0; i < 50; i++) lua(engine, `KV.namespace("n"):put("k${i}", "${i}")`);
    assert.equal(keys(engine, 'n').length, 50);
    assert.equal(engine.executeApi('function GET() return KV.namespace("n"):get("k7") end').body, '7');
});

test('json and fail globals behave as native', async () => {
    const engine = await Engine.create();
    lua(engine, `
        assert(json.encode({ 1, 2, 3 }) == "[1,2,3]")
        assert(json.encode({}) == "[]")
        assert(json.encode(json.decode("{}")) == "{}")
        assert(json.encode({ b = 1, a = "x" }) == '{"a":"x","b":1}')
        assert(json.encode(9007199254740993) == "9007199254740993")
        assert(math.type(json.decode("9007199254740993")) == "integer" and json.decode("9007199254740993") == 9007199254740993)
        assert(json.encode(0.1) == "0.1" and json.decode("0.1") == 0.1)
        assert(json.encode(3.0) == "3.0")
        assert(json.encode("a\\"b\\n\\1é") == '"a\\\\"b\\\\n\\\\u0001é"')
        assert(json.decode("null") == json.null)
        assert(json.decode('"\\\\u00e9\\\\ud83d\\\\ude00"') == "é😀")
        local ok, e = pcall(json.decode, '{"a":}')
        assert(not ok and e:find("byte 5"), e)
        local t = {}; t.t = t
        ok, e = pcall(json.encode, t)
        assert(not ok and e:find("cyclic"), e)
        ok, e = pcall(json.encode, { f = print })
        assert(not ok and e:find("function"), e)
        local f = fail(400, { error = "x" })
        assert(f.status == 400 and f.error == "x")
        ok, e = pcall(fail, "400")
        assert(not ok and e == "fail: status must be an integer HTTP status, got string", e)`);
});

test('a thousand engine calls and 100k KV operations stay quick', async () => {
    const engine = await Engine.create();
    const started = performance.now();
    for (let i = 0; i < 1000; i++) engine.run(`KV.namespace("q"):put("k${i % 10}", "v")`);
    lua(engine, 'local kv = KV.namespace("q") for i = 1, 100000 do kv:get("k" .. (i % 10)) end');
    assert.ok(performance.now() - started < 20000);
});
