// The example app of `luat serve` (examples/blog: the spec's session, cache and blog examples)
// through the engine's executeRoute, and the `+server.lua` / `+page.server.lua` response rules
// (LuatRouting, the same Swift as `luat serve`) through executeApi / executeAction / executeLoad.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test, assert, Engine, manualClock, lua, keys, repoRoot } from './harness.mjs';
import { createApp, FILES } from '../demo/app.mjs';

const appDir = path.join(repoRoot, 'examples/blog');
const readText = (file) => readFile(path.join(appDir, file), 'utf8');
const json = (r) => JSON.parse(r.body);
const form = (fields) => ({ body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

test('the demo runs every Lua file of examples/blog', async () => {
    const found = (await readdir(path.join(appDir, 'src'), { recursive: true }))
        .filter((f) => f.endsWith('.lua')).map((f) => 'src/' + f.split(path.sep).join('/')).sort();
    assert.deepEqual([...FILES].sort(), found);
});

// The spec samples that are files of the example app (blog, session, formActions,
// cachingRoute) are those files: Tests/Shared/spec-samples links to them.

test('session storage: create, get, expire after 24 hours, destroy', async () => {
    const clock = manualClock();
    const app = await createApp(readText, { now: clock.now });
    const created = app.request('POST', '/api/session', { body: { user_id: 42 } });
    assert.equal(created.status, 201);
    const id = json(created).session_id;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(created.headers['Set-Cookie'], `session=${id}; Path=/; HttpOnly; SameSite=Lax`);

    const got = app.request('GET', `/api/session/${id}`);
    assert.equal(got.status, 200);
    assert.equal(json(got).user_id, 42);
    assert.equal(json(got).created, clock.seconds());

    clock.advance(86400);
    const expired = app.request('GET', `/api/session/${id}`);
    assert.equal(expired.status, 404);
    assert.deepEqual(json(expired), { error: 'Session not found' });

    const second = json(app.request('POST', '/api/session', form({ user_id: '7' }))).session_id;
    assert.notEqual(second, id);
    assert.equal(json(app.request('GET', `/api/session/${second}`)).user_id, '7');
    const destroyed = app.request('DELETE', `/api/session/${second}`);
    assert.equal(destroyed.status, 204);
    assert.equal(destroyed.body, '');
    assert.equal(app.request('GET', `/api/session/${second}`).status, 404);
    assert.equal(app.request('POST', '/api/session', { body: {} }).status, 400);
});

test('caching API responses: MISS, HIT, MISS again after 5 minutes', async () => {
    const clock = manualClock();
    const app = await createApp(readText, { now: clock.now });
    app.request('POST', '/api/blog', { body: { slug: 'hello', title: 'Hello', author: 'alice' } });
    const first = app.request('GET', '/api/posts');
    assert.equal(first.status, 200);
    assert.equal(first.headers['X-Cache'], 'MISS');
    assert.equal(first.headers['Content-Type'], 'application/json');
    assert.equal(json(first)[0].slug, 'hello');
    const second = app.request('GET', '/api/posts');
    assert.equal(second.headers['X-Cache'], 'HIT');
    assert.deepEqual(json(second), json(first));
    // A new post is not seen until the entry expires.
    app.request('POST', '/api/blog', { body: { slug: 'second' } });
    clock.advance(299);
    const cached = app.request('GET', '/api/posts');
    assert.equal(cached.headers['X-Cache'], 'HIT');
    assert.equal(json(cached).length, 1);
    clock.advance(1);
    const fresh = app.request('GET', '/api/posts');
    assert.equal(fresh.headers['X-Cache'], 'MISS');
    assert.equal(json(fresh).length, 2);
});

test('blog: create, list, get, update, delete through the API', async () => {
    const app = await createApp(readText);
    assert.deepEqual(json(app.request('GET', '/api/blog')), []);
    const created = app.request('POST', '/api/blog', form({ slug: 'hello', title: 'Hello', content: 'Body & more', author: 'alice' }));
    assert.equal(created.status, 201);
    assert.equal(created.headers.Location, '/api/blog/hello');
    assert.equal(json(created).content, 'Body & more');
    assert.equal(app.request('POST', '/api/blog', { body: { slug: 'hello' } }).status, 409);
    const bad = app.request('POST', '/api/blog', { body: { slug: '../x' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(json(bad), { error: 'slug must be letters, digits, - or _' });
    app.request('POST', '/api/blog', { body: { slug: 'second', title: 'Second', author: 'bob' } });
    assert.deepEqual(json(app.request('GET', '/api/blog')).map((p) => p.slug), ['hello', 'second']);
    assert.equal(json(app.request('GET', '/api/blog/hello')).title, 'Hello');
    const updated = app.request('PUT', '/api/blog/hello', { body: { title: 'Hello again' } });
    assert.equal(updated.status, 200);
    assert.equal(json(updated).title, 'Hello again');
    assert.equal(json(updated).content, 'Body & more');
    assert.equal(json(app.request('PATCH', '/api/blog/hello', { body: { content: 'Patched' } })).content, 'Patched');
    assert.equal(app.request('PATCH', '/api/blog/nope', { body: { title: 'x' } }).status, 404);
    const head = app.request('HEAD', '/api/blog/hello');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = app.request('POST', '/api/blog/hello');
    assert.equal(post.status, 405);
    assert.equal(post.headers.Allow, 'GET, HEAD, PUT, PATCH, DELETE');
    assert.equal(app.request('DELETE', '/api/blog/second').status, 204);
    assert.equal(app.request('GET', '/api/blog/second').status, 404);
    assert.deepEqual(keys(app.engine, 'blog'), ['post:hello']);
    assert.equal(app.request('GET', '/nothing/here').status, 404);
});

test('pages: layout data merged under the page, load, actions, fail, redirect', async () => {
    const app = await createApp(readText);
    const home = json(app.request('GET', '/'));
    assert.equal(home.site, 'Luat Blog');
    assert.match(home.message, /KV store examples/);
    app.request('POST', '/api/blog', { body: { slug: 'hello', title: 'Hello', content: 'Hi', author: 'alice' } });

    const loaded = app.request('GET', '/blog/hello/edit');
    assert.equal(loaded.status, 200);
    assert.deepEqual(Object.keys(json(loaded)), ['site', 'post']); // layout data first, page data over it
    assert.equal(json(loaded).post.title, 'Hello');
    assert.equal(json(app.request('GET', '/blog/hello')).post.title, 'Hello');
    const missing = app.request('GET', '/blog/nope/edit');
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing), { site: 'Luat Blog', error: 'Post not found' });

    const saved = app.request('POST', '/blog/hello/edit', form({ title: 'New title', content: 'Body' }));
    assert.equal(saved.status, 200);
    assert.deepEqual(json(saved), { saved: true });
    assert.equal(json(app.request('GET', '/api/blog/hello')).title, 'New title');

    const failed = app.request('POST', '/blog/nope/edit', { body: { title: 'x' } });
    assert.equal(failed.status, 400);
    assert.deepEqual(json(failed), { error: 'Post not found' });

    const unknown = app.request('POST', '/blog/hello/edit?/publish');
    assert.equal(unknown.status, 404);
    assert.deepEqual(json(unknown), { error: "No action named 'publish'" });
    const notAllowed = app.request('DELETE', '/blog');
    assert.equal(notAllowed.status, 405);
    assert.equal(notAllowed.headers.Allow, 'GET, HEAD');

    const deleted = app.request('POST', '/blog/hello/edit?/delete');
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.Location, '/blog');
    assert.equal(deleted.body, '');
    assert.deepEqual(keys(app.engine, 'blog'), []);
    assert.deepEqual(json(app.request('GET', '/blog')), { site: 'Luat Blog', posts: [] });
});

test('executeRoute: files load once per engine and again after writeFile', async () => {
    const engine = await Engine.create({ files: {
        'src/routes/+layout.server.lua': 'function load() return { from = "layout", n = 0 } end',
        'src/routes/x/+page.server.lua': 'local loads = (loads or 0) + 1\nfunction load() return { n = loads } end',
        'src/routes/x/+server.lua': 'function POST() return { status = 202 } end',
    } });
    const route = { endpoint: 'src/routes/x/+server.lua', page: 'src/routes/x/+page.server.lua', layouts: ['src/routes/+layout.server.lua'] };
    assert.deepEqual(json(engine.executeRoute(route)), { from: 'layout', n: 1 });
    assert.deepEqual(json(engine.executeRoute(route)), { from: 'layout', n: 1 });
    assert.equal(engine.executeRoute(route, { method: 'POST' }).status, 202);
    const del = engine.executeRoute(route, { method: 'DELETE' });
    assert.equal(del.headers.Allow, 'POST, GET, HEAD');
    engine.writeFile('src/routes/x/+page.server.lua', 'function load() return { n = "new" } end');
    assert.deepEqual(json(engine.executeRoute(route)), { from: 'layout', n: 'new' });
    assert.throws(() => engine.executeRoute({}), /needs an endpoint/);
    const missing = engine.executeRoute({ endpoint: 'src/routes/none/+server.lua' });
    assert.equal(missing.status, 500);
    assert.equal(json(missing).message, 'cannot open src/routes/none/+server.lua');
    // executeLoad with layouts the engine holds
    const page = engine.executeLoad('function load() return { page = true } end', {}, { layouts: ['src/routes/+layout.server.lua'] });
    assert.deepEqual(json(page), { from: 'layout', n: 0, page: true });
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
