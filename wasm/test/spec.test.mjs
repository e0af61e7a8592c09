// The spec's code samples (kv-store.md), each kept once in Tests/Shared/spec-samples (the native
// suite reads the same files), run in the WASM engine with the same assertions.
import { test, assert, Engine, manualClock, lua, keys, specSamples } from './harness.mjs';

const S = specSamples();
const lines = (output) => output.split('\n').slice(0, -1);

async function fresh(files) {
    const clock = manualClock();
    const engine = await Engine.create({ now: clock.now, files });
    return { engine, clock, now: clock.seconds() };
}

test('every spec sample was found', () => {
    for (const name of ['basicUsage', 'namespaces', 'get', 'getWithMetadata', 'put', 'delete', 'list', 'session',
        'cachingRoute', 'blog', 'formActions', 'bestPracticeExpiration', 'bestPracticePrefixes',
        'bestPracticeMetadata', 'bestPracticeMissing']) {
        assert.ok(typeof S[name] === 'string' && S[name].length > 10, `sample ${name}`);
    }
    assert.match(S.basicUsage, /^-- Get a namespace\nlocal kv = KV\.namespace\("my-namespace"\)/);
});

test('spec: basic usage', async () => {
    const { engine } = await fresh();
    const r = lua(engine, S.basicUsage + '\nassert(kv:get("user:123") == nil, "deleted")');
    assert.deepEqual(lines(r.output), ['Alice']);
    assert.deepEqual(keys(engine, 'my-namespace'), []);
});

test('spec: namespaces are isolated', async () => {
    const { engine } = await fresh();
    lua(engine, S.namespaces + '\nassert(users:get("key") == "value1")\nassert(posts:get("key") == "value2")');
    assert.deepEqual(lua(engine, 'return KV.namespace("users"):get("key"), KV.namespace("posts"):get("key")').results, ['value1', 'value2']);
});

test('spec: get', async () => {
    const { engine } = await fresh();
    const r = lua(engine, `local kv = KV.namespace("app")
kv:put("key", "hello")
kv:put("config", '{"setting":"dark","n":42}')
${S.get}
assert(value == "hello")
assert(data.setting == "dark" and math.type(data.n) == "integer" and data.n == 42)
assert(missing == nil)
assert(kv:get("key", "text") == "hello")`);
    assert.deepEqual(lines(r.output), ['dark']);
});

test('spec: getWithMetadata', async () => {
    const { engine, now } = await fresh();
    const r = lua(engine, `local kv = KV.namespace("app")
kv:put("key", "v", { expirationTtl = 60, metadata = { author = "alice", n = 1 } })
${S.getWithMetadata}
assert(value == "v")
assert(meta.expiration == ${now + 60})
assert(meta.metadata.author == "alice" and meta.metadata.n == 1)
kv:put("plain", "p")
local v2, m2 = kv:getWithMetadata("plain")
assert(v2 == "p" and m2.expiration == nil and m2.metadata == nil)
local v3, m3 = kv:getWithMetadata("missing")
assert(v3 == nil and m3 == nil)`);
    const out = lines(r.output);
    assert.equal(out.length, 3);
    assert.equal(out[0], 'v');
    assert.equal(out[1], String(now + 60));
    assert.match(out[2], /^table: /);
});

test('spec: put (TTL is real, expiration, metadata)', async () => {
    const { engine, clock, now } = await fresh();
    lua(engine, `local kv = KV.namespace("app")
local post = { title = "Hello", tags = { "a", "b" } }
local t0 = os.time()
${S.put}
assert(kv:get("key") == "value")
local _, session = kv:getWithMetadata("session:abc")
assert(session.expiration == ${now + 3600})
local _, token = kv:getWithMetadata("token:xyz")
assert(token.expiration >= t0 + 86400 and token.expiration <= os.time() + 86400)
local stored, meta = kv:getWithMetadata("post:123", "json")
assert(stored.title == "Hello" and stored.tags[2] == "b")
assert(meta.metadata.author == "alice" and meta.metadata.created >= t0)`);
    assert.deepEqual(keys(engine, 'app'), ['key', 'post:123', 'session:abc', 'token:xyz']);
    clock.advance(3600);
    assert.deepEqual(keys(engine, 'app'), ['key', 'post:123', 'token:xyz']);
});

test('spec: os.time() and the KV clock are the same clock', async () => {
    const { engine, clock } = await fresh();
    assert.equal(lua(engine, 'return os.time()').result, clock.seconds());
    clock.advance(1000);
    assert.equal(lua(engine, 'return os.time()').result, clock.seconds());
});

test('spec: delete (twice is fine)', async () => {
    const { engine } = await fresh();
    lua(engine, `local kv = KV.namespace("app")
kv:put("key", "v")
${S.delete}
assert(kv:get("key") == nil)
${S.delete}`);
    assert.deepEqual(keys(engine, 'app'), []);
});

test('spec: list', async () => {
    const { engine, now } = await fresh();
    const r = lua(engine, `local kv = KV.namespace("app")
kv:put("post:1", "a", { metadata = { author = "alice" }, expirationTtl = 600 })
kv:put("post:2", "b")
kv:put("user:1", "c")
${S.list}
assert(#result.keys == 3 and result.list_complete == true and result.cursor == nil)
assert(#posts.keys == 2 and posts.keys[1].name == "post:1" and posts.keys[2].name == "post:2")
assert(posts.keys[1].metadata.author == "alice" and posts.keys[1].expiration == ${now + 600})
assert(posts.keys[2].metadata == nil and posts.keys[2].expiration == nil)
assert(page1.list_complete)`);
    const out = lines(r.output);
    assert.equal(out.length, 9);
    assert.deepEqual(out.slice(0, 3), ['post:1', 'post:2', 'user:1']);
    assert.equal(out[3], 'post:1');
    assert.equal(out[4], String(now + 600));
    assert.match(out[5], /^table: /);
    assert.deepEqual(out.slice(6), ['post:2', 'nil', 'nil']);
});

test('spec: list pagination', async () => {
    const { engine } = await fresh();
    lua(engine, `local kv = KV.namespace("many")
for i = 1, 250 do kv:put(string.format("k%03d", i), tostring(i)) end
local print = function() end
${S.list}
assert(#page1.keys == 100 and page1.list_complete == false and type(page1.cursor) == "string")
local seen, cursor, pages = {}, nil, 0
repeat
    local page = kv:list({ limit = 100, cursor = cursor })
    pages = pages + 1
    for _, key in ipairs(page.keys) do seen[#seen + 1] = key.name end
    cursor = page.cursor
until page.list_complete
assert(pages == 3 and #seen == 250 and seen[1] == "k001" and seen[250] == "k250")`);
});

test('spec: best practices', async () => {
    const { engine, now } = await fresh();
    lua(engine, `local kv = KV.namespace("bp")
local data = "cached"
local content = "document"
local user_id = "alice"
local function body(...)
${S.bestPracticeExpiration}
${S.bestPracticePrefixes}
${S.bestPracticeMetadata}
assert(kv:get("user:123:profile") == "profile-data")
local listed = kv:list({ prefix = "user:123:" })
assert(#listed.keys == 2)
local _, meta = kv:getWithMetadata("doc:abc")
assert(meta.metadata.author == "alice" and meta.metadata.version == 1)
local _, cache = kv:getWithMetadata("cache:key")
assert(cache.expiration == ${now + 3600})
do
${S.bestPracticeMissing}
assert(type(data) == "table" and next(data) == nil)
end
kv:put("key", '{"a":1}')
do
${S.bestPracticeMissing}
assert(data.a == 1)
end
end
body("profile-data")`);
    assert.deepEqual(keys(engine, 'bp'), ['cache:key', 'doc:abc', 'key', 'user:123:profile', 'user:123:settings']);
});
