// The demo app: the spec's examples (blog, sessions, cached posts, the edit page with its form
// actions) as Luat routes, served by the WASM engine in-process. Used by the browser demo
// (index.html) and by the node tests; `readText(path)` reads a file of ./app.
import { Engine } from '../luat.mjs';

export const FILES = [
    'src/lib/blog.lua',
    'src/lib/session.lua',
    'src/routes/api/posts/+server.lua',
    'src/routes/api/posts/[slug]/+server.lua',
    'src/routes/api/session/+server.lua',
    'src/routes/api/cached-posts/+server.lua',
    'src/routes/blog/[slug]/edit/+page.server.lua',
];

// Routes from the file names, as `luat serve` maps folders to path segments.
function routesOf(files) {
    return files.filter((f) => f.startsWith('src/routes/')).map((file) => {
        const parts = file.slice('src/routes/'.length).split('/');
        const name = parts.pop();
        return { file, kind: name === '+server.lua' ? 'api' : 'page', segments: parts };
    });
}

function match(route, path) {
    const segments = path.split('/').filter(Boolean);
    if (segments.length !== route.segments.length) return null;
    const params = {};
    for (let i = 0; i < segments.length; i++) {
        const pattern = route.segments[i];
        const m = /^\[(\w+)\]$/.exec(pattern);
        if (m) params[m[1]] = decodeURIComponent(segments[i]);
        else if (pattern !== segments[i]) return null;
    }
    return params;
}

export async function createApp(readText, options = {}) {
    const sources = {};
    for (const file of FILES) sources[file] = await readText(file);
    const engine = await Engine.create({ ...options, files: { 'src/lib/blog.lua': sources['src/lib/blog.lua'], 'src/lib/session.lua': sources['src/lib/session.lua'] } });
    engine.eval(await readText('init.lua'), { name: 'init.lua' });
    const routes = routesOf(FILES);
    // Static segments win over parameters.
    routes.sort((a, b) => a.segments.filter((s) => s.startsWith('[')).length - b.segments.filter((s) => s.startsWith('[')).length);

    function request(method, url, { body, headers } = {}) {
        const path = new URL(url, 'http://localhost').pathname;
        for (const route of routes) {
            const params = match(route, path);
            if (!params) continue;
            const ctx = { method, url, params, headers: { ...(headers ?? {}) }, body };
            if (body !== undefined && typeof body !== 'string') ctx.headers['content-type'] ??= 'application/json';
            if (route.kind === 'api') return engine.executeApi(sources[route.file], ctx, { file: route.file });
            if (method === 'GET' || method === 'HEAD') return engine.executeLoad(sources[route.file], ctx, { file: route.file });
            return engine.executeAction(sources[route.file], ctx, { file: route.file });
        }
        return { status: 404, headers: { 'Content-Type': 'application/json' }, body: '{"error":"Not Found"}' };
    }

    return { engine, request };
}
