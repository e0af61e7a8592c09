// A small static server for the demo: `node wasm/demo/serve.mjs [port]` serves, on 127.0.0.1,
// the demo page (/wasm/demo/), the engine (/wasm/luat.mjs, /wasm/out/luat.wasm) and the
// example app it runs (/examples/blog/), all from the repository. Nothing else of the
// repository is served. Also used by the headless-Chromium test.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// What the page needs: URL path prefixes under the repository root.
const SERVED = ['/wasm/demo/', '/wasm/luat.mjs', '/wasm/out/', '/examples/blog/'];
export const DEMO_PATH = '/wasm/demo/';
const TYPES = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
    '.wasm': 'application/wasm', '.lua': 'text/plain; charset=utf-8', '.css': 'text/css' };

export function startServer(port = 0) {
    const server = http.createServer(async (req, res) => {
        try {
            const pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
            if (pathname === '/') {
                res.writeHead(302, { Location: DEMO_PATH });
                res.end();
                return;
            }
            const file = path.resolve(root, '.' + (pathname.endsWith('/') ? pathname + 'index.html' : pathname));
            const relative = '/' + path.relative(root, file).split(path.sep).join('/');
            const allowed = SERVED.some((p) => (p.endsWith('/') ? relative.startsWith(p) : relative === p));
            if (!allowed || !file.startsWith(root + path.sep) || pathname.includes('\0')) throw Object.assign(new Error(), { code: 'ENOENT' });
            if (!(await stat(file)).isFile()) throw Object.assign(new Error(), { code: 'ENOENT' });
            const body = await readFile(file);
            res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
            res.end(body);
        } catch {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not found');
        }
    });
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const server = await startServer(Number(process.argv[2] ?? 8080));
    console.log(`Luat WASM demo: http://127.0.0.1:${server.address().port}${DEMO_PATH}`);
}
