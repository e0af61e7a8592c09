// The route trees of Tests/Shared/route-table.json, which the native tests read too
// (Tests/LuatServerTests/SharedRouteTableTests.swift): the engine must find the same routes
// and answer each path with the same route and parameters as `luat serve`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assert, Engine, repoRoot, test } from './harness.mjs';

const table = JSON.parse(readFileSync(path.join(repoRoot, 'Tests/Shared/route-table.json'), 'utf8'));

const folderOf = (file) => (file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.');

async function engineFor(tree) {
    const files = {};
    for (const file of tree.files) {
        const source = table.sources[file.slice(file.lastIndexOf('/') + 1)];
        files['src/routes/' + file] = source ? source.split('FOLDER').join(JSON.stringify(folderOf(file))) : '-- not a route file';
    }
    return Engine.create({ files });
}

test('the shared route table has its trees', () => {
    assert.ok(table.trees.length >= 6);
    assert.ok(table.trees.some((t) => t.files.some((f) => f.includes('[[') )));
    assert.ok(table.trees.some((t) => t.files.some((f) => f.includes('[...'))));
});

for (const tree of table.trees) {
    test(`shared route table: ${tree.name}`, async () => {
        const engine = await engineFor(tree);
        if (tree.error) {
            assert.throws(() => engine.route('/'), (e) => e.message.includes(tree.error));
            const answer = engine.request('GET', '/');
            assert.equal(answer.status, 500);
            assert.ok(JSON.parse(answer.body).message.includes(tree.error), answer.body);
            return;
        }
        for (const request of tree.requests) {
            const where = `${tree.name}: ${request.path}`;
            const found = engine.route(request.path);
            assert.equal(found?.folder ?? null, request.route, where);
            const answer = engine.request('GET', request.path);
            if (request.route === null) {
                assert.equal(found, null, where);
                assert.equal(answer.status, 404, where);
                continue;
            }
            assert.deepEqual(found.params, request.params, where);
            if (request.layouts) assert.deepEqual(found.layouts, request.layouts.map((l) => 'src/routes/' + l), where);
            assert.equal(answer.status, 200, `${where}: ${answer.body}`);
            const body = JSON.parse(answer.body);
            assert.equal(body.folder, request.route, where);
            assert.deepEqual(body.params, request.params, where);
            // A page's GET runs its layouts' `load` (an endpoint's does not).
            const page = tree.files.includes((request.route === '.' ? '' : request.route + '/') + '+page.server.lua');
            for (const layout of page ? request.layouts ?? [] : []) assert.equal(body['layout ' + folderOf(layout)], true, `${where}: ${layout}`);
        }
    });
}

test('engine.request builds ctx as luat serve does', async () => {
    const engine = await Engine.create({
        files: {
            'src/routes/echo/[...rest]/+server.lua': `function POST(ctx)
                return { method = ctx.method, url = ctx.url, path = ctx.path, params = ctx.params, query = ctx.query,
                         form = ctx.form, json = ctx.json, rawBody = ctx.rawBody, action = ctx.action,
                         agent = ctx.headers["X-Test-Agent"] }
            end`,
        },
    });
    const got = engine.request('POST', '/echo/a/b%20c?/save&x=1&y=two+words', {
        headers: { 'x-TEST-agent': 'probe' }, body: { title: 'T' },
    });
    assert.equal(got.status, 200, got.body);
    assert.deepEqual(JSON.parse(got.body), {
        method: 'POST', url: 'http://localhost/echo/a/b%20c?/save&x=1&y=two+words', path: '/echo/a/b%20c',
        params: { rest: 'a/b c' }, query: { x: '1', y: 'two words' }, form: { title: 'T' }, json: { title: 'T' },
        rawBody: '{"title":"T"}', action: 'save', agent: 'probe',
    });
    assert.equal(engine.request('GET', '/echo/../x').status, 400);
    assert.equal(engine.request('PUT', '/echo').status, 405);
    assert.equal(engine.request('GET', '/nothing').status, 404);
});
