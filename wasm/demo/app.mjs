// The example app of `luat serve` (examples/blog: the spec's session, cache and blog
// examples, with a layout) served by the WASM engine in-process. Used by the browser demo
// (index.html) and by the node tests; `readText(path)` reads a file of examples/blog.
//
// Route matching is this small router's (folders → path segments, `[name]` parameters, static
// segments first, `(group)` folders); what answers a matched route — the method's function,
// page `load` with its layouts, actions, the response rules — is the engine's, the same Swift
// code (`LuatRouting`) as `luat serve`.
import { Engine } from '../luat.mjs';

// The app's Lua files (a browser cannot list a folder). The node tests check that this is
// every .lua file of examples/blog/src.
export const FILES = [
    'src/hooks.server.lua',
    'src/lib/blog.lua',
    'src/lib/helpers.lua',
    'src/lib/session.lua',
    'src/routes/+layout.server.lua',
    'src/routes/+page.server.lua',
    'src/routes/api/blog/+server.lua',
    'src/routes/api/blog/[slug]/+server.lua',
    'src/routes/api/posts/+server.lua',
    'src/routes/api/session/+server.lua',
    'src/routes/api/session/[id]/+server.lua',
    'src/routes/blog/+page.server.lua',
    'src/routes/blog/[slug]/+page.server.lua',
    'src/routes/blog/[slug]/edit/+page.server.lua',
];

const ROUTES_DIR = 'src/routes/';
const HOOKS = 'src/hooks.server.lua';

/** Route folders of `files`: their `+server.lua`, `+page.server.lua` and layouts, as `luat serve` finds them. */
export function routesOf(files) {
    const folders = new Map();
    for (const file of files.filter((f) => f.startsWith(ROUTES_DIR))) {
        const parts = file.slice(ROUTES_DIR.length).split('/');
        const name = parts.pop();
        const folder = parts.join('/');
        if (!folders.has(folder)) folders.set(folder, { folder, segments: parts.filter((p) => !/^\(.*\)$/.test(p)) });
        const route = folders.get(folder);
        if (name === '+server.lua') route.endpoint = file;
        else if (name === '+page.server.lua') route.page = file;
        else if (name === '+layout.server.lua') route.layout = file;
    }
    const routes = [];
    for (const route of folders.values()) {
        if (!route.endpoint && !route.page) continue;
        // Layouts of the folders on the way, itself included, outermost first.
        const layouts = [];
        const parts = route.folder ? route.folder.split('/') : [];
        for (let i = 0; i <= parts.length; i++) {
            const layout = folders.get(parts.slice(0, i).join('/'))?.layout;
            if (layout) layouts.push(layout);
        }
        routes.push({ endpoint: route.endpoint, page: route.page, layouts, segments: route.segments });
    }
    // Static segments win over parameters.
    const rank = (s) => (s.startsWith('[') ? 1 : 0);
    routes.sort((a, b) => {
        for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
            const d = rank(a.segments[i]) - rank(b.segments[i]);
            if (d) return d;
        }
        return a.segments.length - b.segments.length;
    });
    return routes;
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
    const files = {};
    for (const file of FILES) files[file] = await readText(file);
    const engine = await Engine.create({ ...options, files });
    // As `luat serve` does for each Lua state: src/hooks.server.lua runs first, in the shared globals.
    if (files[HOOKS] !== undefined) engine.eval(files[HOOKS], { name: HOOKS });
    const routes = routesOf(FILES);

    function request(method, url, { body, headers } = {}) {
        const path = new URL(url, 'http://localhost').pathname;
        for (const route of routes) {
            const params = match(route, path);
            if (!params) continue;
            const ctx = { method, url, params, headers: { ...(headers ?? {}) }, body };
            if (body !== undefined && typeof body !== 'string') ctx.headers['content-type'] ??= 'application/json';
            return engine.executeRoute(route, ctx);
        }
        return { status: 404, headers: { 'Content-Type': 'application/json' }, body: '{"error":"Not Found"}' };
    }

    return { engine, request, routes };
}
