// KV errors from Lua: every case of the native suite (Tests/LuaRuntimeTests/KVErrorTests.swift),
// with the same message, catchable with pcall, and nothing written.
import { test, assert, Engine, manualClock, lua, errorMessage, keys, swiftErrorCases } from './harness.mjs';

const cases = swiftErrorCases('Tests/LuaRuntimeTests/KVErrorTests.swift', { '\\(long513)': "string.rep('k', 513)" });

test('the native error cases were found', () => {
    assert.ok(cases.length >= 60, `only ${cases.length} cases parsed`);
});

test('every native KV error case: same message, pcall-catchable, nothing written', async () => {
    const clock = manualClock();
    const engine = await Engine.create({ now: clock.now });
    const failures = [];
    for (const c of cases) {
        const message = errorMessage(engine, "local kv = KV.namespace('errors')\n" + c.lua);
        const expected = c.message.split('NOW').join(String(clock.seconds()));
        if (message !== expected) failures.push(`${c.lua}\n       got:      ${message}\n       expected: ${expected}`);
        const written = keys(engine, 'errors');
        if (written.length) failures.push(`${c.lua} wrote ${written}`);
    }
    assert.equal(failures.length, 0, failures.join('\n'));
});

test('a failed put keeps the previous value', async () => {
    const engine = await Engine.create();
    lua(engine, `
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
        assert(v == 'old' and meta.metadata.v == 1 and meta.expiration == nil)`);
    assert.deepEqual(keys(engine, 'errors'), ['k']);
});

test('json read of a non-JSON value names the key', async () => {
    const engine = await Engine.create();
    lua(engine, "KV.namespace('errors'):put('config', 'not json')");
    assert.equal(errorMessage(engine, "KV.namespace('errors'):get('config', 'json')"),
        'KV.get: value of key "config" is not valid JSON: invalid literal at byte 0');
    assert.equal(errorMessage(engine, "KV.namespace('errors'):getWithMetadata('config', 'json')"),
        'KV.getWithMetadata: value of key "config" is not valid JSON: invalid literal at byte 0');
});

test('an uncaught KV error reaches JavaScript with its traceback; the engine keeps working', async () => {
    const engine = await Engine.create();
    const r = engine.run("local kv = KV.namespace('x')\n\nkv:put('k', false)", { name: 'scripts/put.lua' });
    assert.equal(r.error.message, 'KV.put: value must be a string or table, got boolean');
    assert.match(r.error.traceback, /scripts\/put\.lua:3: in main chunk/);
    assert.equal(lua(engine, "KV.namespace('x'):put('k', 'v') return KV.namespace('x'):get('k')").result, 'v');
});

test('Lua errors of every kind are results, not crashes', async () => {
    const engine = await Engine.create();
    assert.match(engine.run('error("boom")').error.message, /^main\.lua:1: boom$/);
    assert.match(engine.run('local x = nil; return x.y').error.message, /attempt to index a nil value/);
    assert.match(engine.run('return (').error.message, /unexpected symbol|expected/);
    assert.match(engine.run('local function f() return f() + 1 end return f()').error.message, /stack overflow/);
    assert.equal(engine.run('error({})').error.message, '(error object is a table value)');
    const r = engine.run('local ok, e = pcall(error, "inner") return ok, e');
    assert.deepEqual(r.results, [false, 'inner']);
    assert.throws(() => engine.eval('error("thrown")'), /thrown/);
    assert.equal(lua(engine, 'return 40 + 2').result, 42);
});

test('binary-safe values through arrayBuffer', async () => {
    const engine = await Engine.create();
    lua(engine, `local kv = KV.namespace('bin')
        kv:put('b', 'a\\0b\\255')
        assert(kv:get('b', 'arrayBuffer') == 'a\\0b\\255')
        assert(#kv:get('b') == 4)`);
});
