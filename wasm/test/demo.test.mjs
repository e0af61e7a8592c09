// The browser demo (wasm/demo/index.html, running examples/blog) in a real browser: Debian's
// Chromium, headless, loads the page from a local static server on 127.0.0.1 and the rendered
// DOM is checked.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, assert } from './harness.mjs';
import { startServer, DEMO_PATH } from '../demo/serve.mjs';

// Headless Chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out; messages
// end with NUL): open the page, wait until it says it is ready (or failed), read its DOM.
async function chromiumRenderedDom(url, profile, timeoutMs = 90_000) {
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'];
    const browser = spawn(process.env.CHROMIUM ?? 'chromium', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    browser.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const exited = new Promise((resolve) => browser.on('exit', (code, signal) => resolve(`chromium exited (${code ?? signal})`)));
    const pending = new Map();
    let nextId = 1, buffer = '';
    browser.stdio[4].on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        let end;
        while ((end = buffer.indexOf('\0')) >= 0) {
            const message = JSON.parse(buffer.slice(0, end));
            buffer = buffer.slice(end + 1);
            const waiter = pending.get(message.id);
            if (waiter) { pending.delete(message.id); message.error ? waiter.reject(new Error(JSON.stringify(message.error))) : waiter.resolve(message.result); }
        }
    });
    const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        browser.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
    const deadline = Date.now() + timeoutMs;
    const withDeadline = (promise) => Promise.race([promise, exited.then((why) => { throw new Error(`${why}\n${stderr}`); }),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out\n${stderr}`)), Math.max(0, deadline - Date.now())))]);
    try {
        const { targetId } = await withDeadline(send('Target.createTarget', { url: 'about:blank' }));
        const { sessionId } = await withDeadline(send('Target.attachToTarget', { targetId, flatten: true }));
        await withDeadline(send('Page.navigate', { url }, sessionId));
        const evaluate = async (expression) => (await withDeadline(send('Runtime.evaluate', { expression, returnByValue: true }, sessionId))).result.value;
        for (;;) {
            const status = await evaluate('document.body && document.body.dataset.status');
            if (status === 'ready' || status === 'error') break;
            if (Date.now() > deadline) throw new Error('the page never became ready');
            await new Promise((r) => setTimeout(r, 100));
        }
        return await evaluate('document.documentElement.outerHTML');
    } finally {
        browser.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
}

if (!process.env.LUAT_SKIP_BROWSER) {
    test('browser demo: the blog example renders in headless Chromium', async () => {
        const server = await startServer(0);
        const profile = await mkdtemp(path.join(tmpdir(), 'luat-chromium-'));
        try {
            const base = `http://127.0.0.1:${server.address().port}`;
            const dom = await chromiumRenderedDom(`${base}${DEMO_PATH}index.html`, profile);
            const status = /<p id="status">([^<]*)<\/p>/.exec(dom)?.[1];
            assert.match(dom, /<body data-status="ready">/, `page status: ${status}`);
            assert.match(status, /^ready: /);
            // The layout's data (examples/blog/src/routes/+layout.server.lua) reached the page.
            assert.equal(/<span id="site">([^<]*)<\/span>/.exec(dom)?.[1], 'Luat Blog');
            const posts = dom.slice(dom.indexOf('<div id="posts">'), dom.indexOf('<h2>New post'));
            const titles = [...posts.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
            assert.deepEqual(titles, ['Hello from WebAssembly (edited)', 'KV in the browser']);
            const log = /<pre id="log">([^<]*)<\/pre>/.exec(dom)[1].trim().split('\n');
            const sessionLine = log.splice(log.length - 2, 1)[0];
            assert.match(sessionLine, /^GET \/api\/session\/[0-9a-f]{32} → 200$/);
            assert.deepEqual(log, [
                'POST /api/blog → 201 → /api/blog/hello-wasm',
                'POST /api/blog → 201 → /api/blog/draft',
                'POST /api/blog → 201 → /api/blog/kv-in-the-browser',
                'GET /blog/hello-wasm/edit → 200',
                'POST /blog/hello-wasm/edit → 200',
                'POST /blog/draft/edit?/delete → 303 → /blog',
                'POST /blog/missing/edit → 400',
                'GET /api/posts → 200 (X-Cache: MISS)',
                'GET /api/posts → 200 (X-Cache: HIT)',
                'POST /api/session → 201',
                'GET /blog → 200',
            ]);
            // The server gives the page only what it needs of the repository.
            for (const [path, expected] of [['/examples/blog/src/lib/blog.lua', 200], ['/wasm/out/luat.wasm', 200],
                ['/README.md', 404], ['/wasm/build.sh', 404], ['/.git/HEAD', 404], ['/wasm/demo/%2e%2e/%2e%2e/Package.swift', 404]]) {
                assert.equal((await fetch(base + path)).status, expected, path);
            }
        } finally {
            server.close();
            await rm(profile, { recursive: true, force: true });
        }
    });
}
