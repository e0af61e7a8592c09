// The example app of `luat serve` (examples/blog: the spec's session, cache and blog
// examples, with a layout) served by the WASM engine in-process. Used by the browser demo
// (index.html) and by the node tests; `readText(path)` reads a file of examples/blog.
//
// The demo keeps no router: `engine.request` finds the routes among the files under
// src/routes, matches the path, builds `ctx` and answers with the same Swift code
// (`LuatRouting`) as `luat serve`.
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

const HOOKS = 'src/hooks.server.lua';

export async function createApp(readText, options = {}) {
    const files = {};
    for (const file of FILES) files[file] = await readText(file);
    const engine = await Engine.create({ ...options, files });
    // As `luat serve` does for each Lua state: src/hooks.server.lua runs first, in the shared globals.
    if (files[HOOKS] !== undefined) engine.eval(files[HOOKS], { name: HOOKS });

    // Matching, ctx and the answer are the engine's: the same Swift code as `luat serve`.
    function request(method, url, { body, headers } = {}) {
        return engine.request(method, url, { body, headers });
    }

    return { engine, request };
}
