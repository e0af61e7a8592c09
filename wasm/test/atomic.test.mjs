// Versions, atomic commits and counters (issue 14) in the WASM engine: the issue's example
// as the native suite runs it (Tests/LuaRuntimeTests/KVAtomicTests.swift), versions,
// check-and-set, increments, expiration, and the native error cases with their messages.
import { test, assert, Engine, manualClock, lua, errorMessage, keys, swiftErrorCases, swiftMultilineStrings } from './harness.mjs';

const samples = swiftMultilineStrings('Tests/LuaRuntimeTests/KVAtomicTests.swift');
const cases = swiftErrorCases('Tests/LuaRuntimeTests/KVAtomicTests.swift', {});

test('the issue example runs as written', async () => {
    assert.ok(samples.issueExample && samples.issueExample.includes('KV.atomic()'), 'issueExample not found');
    const engine = await Engine.create();
    const r = lua(engine, `
        KV.namespace("users"):put("u:1", '{"name":"Alice"}', { metadata = { v = 1 } })
        KV.namespace("users"):put("u:1:draft", "draft")
        local _, info = KV.namespace("users"):getWithMetadata("u:1")
        local user = { name = "Alice", email = "alice@example.com" }
        ${samples.issueExample}
        assert(ok == true and #version == 16)
        local _, after = users:getWithMetadata("u:1")
        assert(after.version == version and after.version > info.version and after.metadata.v == 2)
        assert(users:get("u:1:draft") == nil and users:get("count") == "1")
        local again = KV.atomic():check(emails, "alice@example.com", nil):put(emails, "alice@example.com", "u:2"):commit()
        return { again = again, owner = emails:get("alice@example.com") }`);
    assert.deepEqual(r.result, { again: false, owner: 'u:1' });
});

test('versions grow, stale checks fail, increments are exact, expired entries are absent', async () => {
    const clock = manualClock();
    const engine = await Engine.create({ now: clock.now });
    lua(engine, `
        local kv = KV.namespace("c")
        kv:put("k", "1")
        local _, a = kv:getWithMetadata("k")
        kv:put("k", "1")
        local _, b = kv:getWithMetadata("k")
        assert(b.version > a.version)
        assert(KV.atomic():check(kv, "k", a.version):put(kv, "k", "stale"):commit() == false)
        assert(kv:get("k") == "1")
        assert(kv:increment("n") == 1 and kv:increment("n", 41) == 42 and kv:get("n") == "42")
        kv:put("lock", "x", { expirationTtl = 60 })
        assert(KV.atomic():check(kv, "lock", nil):put(kv, "lock", "mine"):commit() == false)`);
    clock.advance(60);
    const r = lua(engine, `
        local kv = KV.namespace("c")
        local ok = KV.atomic():check(kv, "lock", nil):put(kv, "lock", "mine"):commit()
        return { ok = ok, lock = kv:get("lock") }`);
    assert.deepEqual(r.result, { ok: true, lock: 'mine' });
});

test('the native atomic error cases: same message, nothing written', async () => {
    assert.ok(cases.length >= 12, `only ${cases.length} cases parsed`);
    const failures = [];
    for (const c of cases) {
        const engine = await Engine.create();
        const message = errorMessage(engine, "local kv = KV.namespace('errors')\n" + c.lua);
        if (message !== c.message) failures.push(`${c.lua}\n       got:      ${message}\n       expected: ${c.message}`);
        const written = keys(engine, 'errors').filter((k) => k !== 'name' && k !== 'n');
        if (written.length) failures.push(`${c.lua} wrote ${written}`);
    }
    assert.deepEqual(failures, []);
});
