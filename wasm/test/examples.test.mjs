// The spec's examples as routes through executeApi / executeAction / executeLoad, and the
// `+server.lua` / `+page.server.lua` response rules of `luat serve`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, assert, Engine, manualClock, lua, keys, repoRoot, swiftMultilineStrings } from './harness.mjs';
import { createApp } from '../demo/app.mjs';

const appDir = path.join(repoRoot, 'wasm/demo/app');
const readText = (file) => readFile(path.join(appDir, file), 'utf8');
const json = (r) => JSON.parse(r.body);

test('the demo app carries the spec samples verbatim', async () => {
    const S = swiftMultilineStrings('Tests/LuaRuntimeTests/SpecSamples.swift');
    assert.equal(await readText('src/lib/blog.lua'), S.blog + '\n');
    assert.equal(await readText('src/lib/session.lua'), S.session + '\n');
    assert.equal(await readText('src/routes/blog/[slug]/edit/+page.server.lua'), S.formActions + '\n');
    const cached = await readText('src/routes/api/cached-posts/+server.lua');
    assert.equal(cached.split('\n').slice(1).join('\n'), S.cachingRoute.split('\n').slice(1).join('\n') + '\n');
});

test('session storage: create, get, expire after 24 hours, destroy', async () => {
    const clock = manualClock();
    const app = await createApp(readText, { now: clock.now });
    const created = app.request('POST', '/api/session', { body: { user_id: 42 } });
    assert.equal(created.status, 201);
    const id = json(created).session_id;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(created.headers['Set-Cookie'], `session=${id}; HttpOnly; Path=/`);

    const got = app.request('GET', `/api/session?id=${id}`);
    assert.equal(got.status, 200);
    assert.equal(json(got).user_id, 42);
    assert.equal(json(got).created, clock.seconds());
    // headers are looked up case-insensitively
    assert.equal(app.request('GET', '/api/session', { headers: { 'x-session-id': id } }).status, 200);

    clock.advance(86400);
    assert.equal(app.request('GET', `/api/session?id=${id}`).status, 404);

    const second = json(app.request('POST', '/api/session', { body: 'user_id=7', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).session_id;
    assert.equal(json(app.request('GET', `/api/session?id=${second}`)).user_id, '7');
    assert.equal(app.request('DELETE', `/api/session?id=${second}`).status, 204);
    assert.equal(app.request('GET', `/api/session?id=${second}`).status, 404);
    assert.equal(app.request('POST', '/api/session', { body: {} }).status, 400);
});

test('caching API responses: MISS, HIT, MISS again after 5 minutes', async () => {
    const clock = manualClock();
    const app = await createApp(readText, { now: clock.now });
    app.request('POST', '/api/posts', { body: { slug: 'hello', title: 'Hello', author: 'alice' } });
    const first = app.request('GET', '/api/cached-posts');
    assert.equal(first.status, 200);
    assert.equal(first.headers['X-Cache'], 'MISS');
    assert.equal(first.headers['Content-Type'], 'application/json');
    assert.equal(json(first)[0].slug, 'hello');
    const second = app.request('GET', '/api/cached-posts');
    assert.equal(second.headers['X-Cache'], 'HIT');
    assert.deepEqual(json(second), json(first));
    clock.advance(299);
    assert.equal(app.request('GET', '/api/cached-posts').headers['X-Cache'], 'HIT');
    clock.advance(1);
    assert.equal(app.request('GET', '/api/cached-posts').headers['X-Cache'], 'MISS');
});

test('blog: create, list, get, update, delete through the API', async () => {
    const app = await createApp(readText);
    assert.deepEqual(json(app.request('GET', '/api/posts')), []);
    const created = app.request('POST', '/api/posts', { body: { slug: 'hello', title: 'Hello', content: 'Hi', author: 'alice' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.Location, '/api/posts/hello');
    assert.equal(app.request('POST', '/api/posts', { body: { slug: 'hello' } }).status, 409);
    app.request('POST', '/api/posts', { body: { slug: 'second', title: 'Second', author: 'bob' } });
    assert.deepEqual(json(app.request('GET', '/api/posts')).map((p) => p.slug), ['hello', 'second']);
    assert.equal(json(app.request('GET', '/api/posts/hello')).title, 'Hello');
    const updated = app.request('PUT', '/api/posts/hello', { body: { title: 'Hello again' } });
    assert.equal(updated.status, 200);
    assert.equal(json(updated).title, 'Hello again');
    assert.equal(json(updated).content, 'Hi');
    assert.equal(app.request('PATCH', '/api/posts/nope', { body: { title: 'x' } }).status, 404);
    assert.equal(app.request('DELETE', '/api/posts/second').status, 204);
    assert.equal(app.request('GET', '/api/posts/second').status, 404);
    assert.deepEqual(keys(app.engine, 'blog'), ['post:hello']);
    const bad = app.request('POST', '/api/posts', { body: { title: 'no slug' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(json(bad), { error: 'slug is required' });
});

test('blog edit page: load, default action, fail, delete action with redirect', async () => {
    const app = await createApp(readText);
    app.request('POST', '/api/posts', { body: { slug: 'hello', title: 'Hello', content: 'Hi', author: 'alice' } });

    const loaded = app.request('GET', '/blog/hello/edit');
    assert.equal(loaded.status, 200);
    assert.equal(json(loaded).post.title, 'Hello');
    const missing = app.request('GET', '/blog/nope/edit');
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing), { error: 'Post not found' });

    const saved = app.request('POST', '/blog/hello/edit', { body: 'title=New+title&content=Body', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(saved.status, 200);
    assert.deepEqual(json(saved), { saved: true });
    assert.equal(json(app.request('GET', '/api/posts/hello')).title, 'New title');

    const failed = app.request('POST', '/blog/nope/edit', { body: { title: 'x' } });
    assert.equal(failed.status, 400);
    assert.deepEqual(json(failed), { error: 'Post not found' });

    const deleted = app.request('POST', '/blog/hello/edit?/delete');
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.Location, '/blog');
    assert.equal(deleted.body, '');
    assert.deepEqual(keys(app.engine, 'blog'), []);

    const unknown = app.request('POST', '/blog/hello/edit?/publish');
    assert.equal(unknown.status, 404);
    assert.deepEqual(json(unknown), { error: "No action named 'publish'" });
});

// The response rules, one by one -----------------------------------------------------------

test('+server.lua: method functions, 405 with Allow, HEAD falls back to GET', async () => {
    const engine = await Engine.create();
    const src = 'function GET(ctx) return { body = { m = ctx.method } } end\nPUT = function() return "put" end\nPOST = PUT';
    assert.deepEqual(json(engine.executeApi(src, { method: 'GET' })), { m: 'GET' });
    const head = engine.executeApi(src, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(engine.executeApi(src, { method: 'POST' }).body, 'put');
    const del = engine.executeApi(src, { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal(del.headers.Allow, 'GET, HEAD, POST, PUT');
    assert.deepEqual(json(del), { error: 'Method Not Allowed' });
});

test('+server.lua: bodies: table as JSON, string as text, nil as empty, status and headers', async () => {
    const engine = await Engine.create();
    const r = (body) => engine.executeApi(`function GET() ${body} end`);
    let x = r('return { status = 201, body = { a = 1, list = { 1, 2 } }, headers = { ["X-One"] = 1, ["X-Many"] = { "a", "b" } } }');
    assert.equal(x.status, 201);
    assert.equal(x.body, '{"a":1,"list":[1,2]}');
    assert.equal(x.headers['Content-Type'], 'application/json');
    assert.equal(x.headers['X-One'], '1');
    assert.equal(x.headers['X-Many'], 'a, b');
    x = r('return { body = "hello" }');
    assert.equal(x.body, 'hello');
    assert.equal(x.headers['Content-Type'], 'text/plain; charset=utf-8');
    x = r('return "plain"');
    assert.equal(x.body, 'plain');
    x = r('return nil');
    assert.equal(x.status, 200);
    assert.equal(x.body, '');
    x = r('return { status = 204 }');
    assert.equal(x.status, 204);
    assert.equal(x.body, '');
    x = r('return { body = { }, headers = { ["Content-Type"] = "application/vnd.x+json" } }');
    assert.equal(x.headers['Content-Type'], 'application/vnd.x+json');
    assert.equal(Object.keys(x.headers).length, 1);
    x = r('return { items = { 1 } }');
    assert.equal(x.body, '{"items":[1]}');
    x = r('return { redirect = "/there" }');
    assert.equal(x.status, 303);
    assert.equal(x.headers.Location, '/there');
    x = r('return fail(422, { error = "bad", field = "title" })');
    assert.equal(x.status, 422);
    assert.deepEqual(json(x), { error: 'bad', field: 'title' });
    x = r('return { body = { v = json.null } }');
    assert.equal(x.body, '{"v":null}');
});

test('ctx: method, url, path, params, query without ?/action, headers, form, json, rawBody', async () => {
    const engine = await Engine.create();
    const src = `function POST(ctx)
        return { body = { method = ctx.method, url = ctx.url, path = ctx.path, slug = ctx.params.slug,
            q = ctx.query.q, ct = ctx.headers["Content-Type"], title = ctx.form.title, j = ctx.json.title,
            raw = ctx.rawBody } }
    end`;
    const r = json(engine.executeApi(src, { method: 'post', url: '/p/x?q=1', params: { slug: 'x' }, headers: { 'Content-Type': 'application/json' }, body: '{"title":"T"}' }));
    assert.deepEqual(r, { method: 'POST', url: '/p/x?q=1', path: '/p/x', slug: 'x', q: '1', ct: 'application/json', title: 'T', j: 'T', raw: '{"title":"T"}' });
    const page = `actions = { save = function(ctx) return { q = ctx.query, a = ctx.query["/save"] == nil } end }`;
    assert.deepEqual(json(engine.executeAction(page, { url: '/p?/save&x=1' })), { q: { x: '1' }, a: true });
});

test('+page.server.lua: per-method actions, layouts of data, status and headers keys', async () => {
    const engine = await Engine.create();
    const src = `
        function load(ctx) return { a = 1, headers = { ["Cache-Control"] = "no-store" } } end
        actions = {
            default = { PUT = function() return { put = true } end, DELETE = function() return { status = 202 } end },
            other = function() return { 1, 2 } end,
        }`;
    const loaded = engine.executeLoad(src);
    assert.deepEqual(json(loaded), { a: 1 });
    assert.equal(loaded.headers['Cache-Control'], 'no-store');
    assert.deepEqual(json(engine.executeAction(src, { method: 'PUT' })), { put: true });
    const d = engine.executeAction(src, { method: 'DELETE' });
    assert.equal(d.status, 202);
    assert.equal(d.body, '{}');
    const post = engine.executeAction(src, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.Allow, 'GET, HEAD, PUT, DELETE');
    assert.deepEqual(json(engine.executeAction(src, { url: '/?/other' })), { data: [1, 2] });
    assert.deepEqual(json(engine.executeLoad('-- no load')), {});
    assert.equal(engine.executeAction('-- no actions').status, 405);
});

test('a Lua error in a route is a 500 with message and file:line; production hides it', async () => {
    const engine = await Engine.create();
    const src = 'function GET()\n  local t = nil\n  return t.x\nend';
    const r = engine.executeApi(src, {}, { file: 'src/routes/api/broken/+server.lua' });
    assert.equal(r.status, 500);
    const body = json(r);
    assert.equal(body.error, 'Internal Server Error');
    assert.equal(body.location, 'src/routes/api/broken/+server.lua:3');
    assert.match(body.message, /attempt to index a nil value \(local 't'\)/);
    const p = engine.executeApi(src, {}, { production: true });
    assert.deepEqual(json(p), { error: 'Internal Server Error' });
    const syntax = engine.executeApi('function GET( end');
    assert.equal(syntax.status, 500);
    assert.equal(json(syntax).location, 'src/routes/+server.lua:1');
    // the engine keeps serving
    assert.equal(engine.executeApi('function GET() return "ok" end').body, 'ok');
});

test("a route's globals stay in its environment; require works relative to the route file", async () => {
    const engine = await Engine.create({ files: { 'src/routes/api/x/helpers.lua': 'return { twice = function(n) return 2 * n end }' } });
    engine.executeApi('function GET() return "a" end leaked = true');
    assert.deepEqual(lua(engine, 'return GET == nil, leaked == nil').results, [true, true]);
    const r = engine.executeApi('local h = require("./helpers") function GET() return { body = { n = h.twice(21) } } end', {}, { file: 'src/routes/api/x/+server.lua' });
    assert.deepEqual(json(r), { n: 42 });
    const missing = engine.executeApi('require("nope")');
    assert.equal(missing.status, 500);
    assert.match(json(missing).message, /module "nope" not found/);
});

test('print output of a route is returned beside the response', async () => {
    const engine = await Engine.create();
    const r = engine.executeApi('function GET() print("log line") return "x" end');
    assert.equal(r.output, 'log line\n');
    assert.equal(r.body, 'x');
});
