// A small static server for the demo: `node wasm/demo/serve.mjs [port]` serves wasm/ on
// 127.0.0.1 (the page is /demo/index.html). Also used by the headless-Chromium test.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
    '.wasm': 'application/wasm', '.lua': 'text/plain; charset=utf-8', '.css': 'text/css' };

export function startServer(port = 0) {
    const server = http.createServer(async (req, res) => {
        try {
            const pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
            const file = path.resolve(root, '.' + (pathname.endsWith('/') ? pathname + 'index.html' : pathname));
            if (!file.startsWith(root + path.sep) || pathname.includes('\0')) throw Object.assign(new Error(), { code: 'ENOENT' });
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
    console.log(`Luat WASM demo: http://127.0.0.1:${server.address().port}/demo/`);
}
