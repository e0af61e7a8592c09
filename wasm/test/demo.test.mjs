// The browser demo (wasm/demo/index.html) in a real browser: Debian's Chromium, headless,
// loads the page from a local static server on 127.0.0.1 and the rendered DOM is checked.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, assert } from './harness.mjs';
import { startServer } from '../demo/serve.mjs';

function chromiumDumpDom(url, profile) {
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        `--user-data-dir=${profile}`, '--virtual-time-budget=30000', '--dump-dom', url];
    return new Promise((resolve, reject) => {
        execFile(process.env.CHROMIUM ?? 'chromium', args, { timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`));
            else resolve(stdout);
        });
    });
}

if (!process.env.LUAT_SKIP_BROWSER) {
    test('browser demo: the blog example renders in headless Chromium', async () => {
        const server = await startServer(0);
        const profile = await mkdtemp(path.join(tmpdir(), 'luat-chromium-'));
        try {
            const url = `http://127.0.0.1:${server.address().port}/demo/index.html`;
            const dom = await chromiumDumpDom(url, profile);
            const status = /<p id="status">([^<]*)<\/p>/.exec(dom)?.[1];
            assert.match(dom, /<body data-status="ready">/, `page status: ${status}`);
            assert.match(status, /^ready: /);
            const posts = dom.slice(dom.indexOf('<div id="posts">'), dom.indexOf('<h2>New post'));
            const titles = [...posts.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
            assert.deepEqual(titles, ['Hello from WebAssembly (edited)', 'KV in the browser']);
            const log = /<pre id="log">([^<]*)<\/pre>/.exec(dom)[1].trim().split('\n');
            assert.deepEqual(log, [
                'POST /api/posts → 201 → /api/posts/hello-wasm',
                'POST /api/posts → 201 → /api/posts/draft',
                'POST /api/posts → 201 → /api/posts/kv-in-the-browser',
                'GET /blog/hello-wasm/edit → 200',
                'POST /blog/hello-wasm/edit → 200',
                'POST /blog/draft/edit?/delete → 303 → /blog',
                'POST /blog/missing/edit → 400',
                'GET /api/cached-posts → 200 (X-Cache: MISS)',
                'GET /api/cached-posts → 200 (X-Cache: HIT)',
                'GET /api/posts → 200',
            ]);
        } finally {
            server.close();
            await rm(profile, { recursive: true, force: true });
        }
    });
}
