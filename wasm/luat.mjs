// Luat for Swift, WASM engine: Lua 5.4 with Luat's `KV`, `json` and `fail` globals over an
// in-memory KV store, compiled from the same Swift sources as the native `luat` command.
//
//   import { Engine } from './luat.mjs';
//   const engine = await Engine.create();
//   engine.run('print("hi") return 1 + 1');             // { output: 'hi\n', result: 2, ... }
//   engine.executeApi(source, { method: 'GET' });        // { status, headers, body }
//   engine.executeAction(source, { url: '/x?/delete' }); // { status, headers, body }
//   engine.executeRoute({ page: 'src/routes/blog/+page.server.lua', layouts: [...] }, { method: 'GET' });
//   engine.route('/blog/hello');                         // { folder, pattern, endpoint, page, layouts, params } or null
//   engine.request('POST', '/api/blog', { body: { slug: 'x' } }); // { status, headers, body }: matched and answered as `luat serve` does
//
// Each engine is its own WebAssembly instance: its own Lua state and its own KV data, which
// lasts as long as the engine (in a browser, until the page is left or reloaded).
// Works in node (18+) and in browsers; no dependencies.

const DEFAULT_WASM = './out/luat.wasm';

const modules = new Map(); // wasm location -> Promise<WebAssembly.Module>

async function readBytes(url) {
    if (url.protocol === 'file:') {
        const { readFile } = await import('node:fs/promises');
        return readFile(url);
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
}

function compileModule(wasm) {
    if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
    if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return WebAssembly.compile(wasm);
    const url = wasm instanceof URL ? wasm : new URL(wasm ?? DEFAULT_WASM, import.meta.url);
    const key = url.href;
    if (!modules.has(key)) {
        const promise = readBytes(url).then((bytes) => WebAssembly.compile(bytes));
        promise.catch(() => modules.delete(key));
        modules.set(key, promise);
    }
    return modules.get(key);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// WASI (preview 1), as little as Lua's C library needs: stdout/stderr go to the engine's
// output, clocks read the engine's clock, random bytes come from crypto; there is no file
// system, no environment and no stdin (reads see end of file).
const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOSYS: 52, SPIPE: 70, NOTCAPABLE: 76 };

class ExitError extends Error {
    constructor(code) { super(`Lua called exit(${code})`); this.code = code; }
}

function wasiImports(engine) {
    const view = () => new DataView(engine._memory.buffer);
    const bytes = () => new Uint8Array(engine._memory.buffer);
    return {
        environ_sizes_get(countPtr, sizePtr) {
            view().setUint32(countPtr, 0, true);
            view().setUint32(sizePtr, 0, true);
            return ERRNO.SUCCESS;
        },
        environ_get() { return ERRNO.SUCCESS; },
        clock_time_get(id, _precision, timePtr) {
            const ms = id === 0 ? engine._now() : performance.now();
            view().setBigUint64(timePtr, BigInt(Math.round(ms * 1e6)), true);
            return ERRNO.SUCCESS;
        },
        fd_write(fd, iovs, iovsLength, writtenPtr) {
            if (fd !== 1 && fd !== 2) return ERRNO.BADF;
            const dv = view();
            let written = 0;
            for (let i = 0; i < iovsLength; i++) {
                const pointer = dv.getUint32(iovs + i * 8, true);
                const length = dv.getUint32(iovs + i * 8 + 4, true);
                engine._output.push(bytes().slice(pointer, pointer + length));
                written += length;
            }
            dv.setUint32(writtenPtr, written, true);
            return ERRNO.SUCCESS;
        },
        fd_read(fd, _iovs, _iovsLength, readPtr) {
            if (fd !== 0) return ERRNO.BADF;
            view().setUint32(readPtr, 0, true);
            return ERRNO.SUCCESS;
        },
        fd_fdstat_get(fd, statPtr) {
            if (fd > 2) return ERRNO.BADF;
            const dv = view();
            dv.setUint8(statPtr, 2); // character device
            dv.setUint16(statPtr + 2, 0, true);
            dv.setBigUint64(statPtr + 8, 0n, true);
            dv.setBigUint64(statPtr + 16, 0n, true);
            return ERRNO.SUCCESS;
        },
        fd_fdstat_set_flags() { return ERRNO.NOSYS; },
        fd_close(fd) { return fd <= 2 ? ERRNO.SUCCESS : ERRNO.BADF; },
        fd_seek(fd) { return fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF; },
        fd_prestat_get() { return ERRNO.BADF; }, // no preopened folders: no file system
        fd_prestat_dir_name() { return ERRNO.BADF; },
        fd_renumber() { return ERRNO.BADF; },
        path_open() { return ERRNO.NOTCAPABLE; },
        path_remove_directory() { return ERRNO.NOTCAPABLE; },
        path_rename() { return ERRNO.NOTCAPABLE; },
        path_unlink_file() { return ERRNO.NOTCAPABLE; },
        proc_exit(code) { throw new ExitError(code); },
        random_get(pointer, length) {
            const target = bytes();
            for (let offset = 0; offset < length; offset += 65536) {
                const n = Math.min(65536, length - offset);
                crypto.getRandomValues(target.subarray(pointer + offset, pointer + offset + n));
            }
            return ERRNO.SUCCESS;
        },
    };
}

// Requests -------------------------------------------------------------------------------------

const OP_RUN = 1, OP_ROUTE = 2, OP_WRITE_FILE = 3, OP_MATCH = 4, OP_REQUEST = 5;

function plainHeaders(headers) {
    const out = {};
    if (!headers) return out;
    const entries = typeof headers.entries === 'function' && !(headers instanceof Array) && !isPlainObject(headers)
        ? headers.entries()
        : Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [name, value] of entries) out[String(name).toLowerCase()] = String(value);
    return out;
}

function isPlainObject(v) {
    return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function parseBody(ctx) {
    const type = (ctx.headers['content-type'] || '').toLowerCase();
    let text = ctx.rawBody;
    if (ctx.body !== undefined && typeof ctx.body !== 'string') {
        // An object body is a JSON body already parsed.
        ctx.json ??= ctx.body;
        text ??= JSON.stringify(ctx.body);
        if (isPlainObject(ctx.body)) ctx.form ??= ctx.body;
    } else if (typeof ctx.body === 'string' || typeof text === 'string') {
        text ??= ctx.body;
        if (type.includes('application/json') || (!type && /^\s*[[{]/.test(text))) {
            try {
                const value = JSON.parse(text);
                ctx.json ??= value;
                ctx.body = value;
                if (isPlainObject(value)) ctx.form ??= value;
            } catch { /* not JSON: body stays text */ }
        } else if (type.includes('application/x-www-form-urlencoded')) {
            const form = Object.fromEntries(new URLSearchParams(text));
            ctx.form ??= form;
            ctx.body = form;
        }
    }
    if (text !== undefined) ctx.rawBody = text;
}

/**
 * The `ctx` a route function sees, as `luat serve` builds it: `method`, `url`, `path`,
 * `params`, `query` (without the `?/action` part), `headers` (case-insensitive lookup in Lua),
 * `form`, `body`, `json`, `rawBody`. Missing fields get their defaults; a `body` string is
 * parsed by its Content-Type (JSON or URL-encoded form), an object `body` is a JSON body.
 */
export function buildContext(ctx = {}, defaultMethod = 'GET') {
    const c = { ...ctx };
    c.method = String(c.method || defaultMethod).toUpperCase();
    const url = new URL(c.url ?? c.path ?? '/', 'http://localhost');
    let search = url.search;
    let action;
    if (search.startsWith('?/')) {
        const amp = search.indexOf('&');
        action = decodeURIComponent(search.slice(2, amp < 0 ? undefined : amp)) || undefined;
        search = amp < 0 ? '' : '?' + search.slice(amp + 1);
    }
    c.url ??= url.pathname + url.search;
    c.path ??= url.pathname;
    c.query ??= Object.fromEntries(new URLSearchParams(search));
    if (action !== undefined) c.action ??= action;
    c.params ??= {};
    c.headers = plainHeaders(c.headers);
    parseBody(c);
    c.form ??= {};
    return c;
}

// The engine ------------------------------------------------------------------------------------

export class LuaError extends Error {
    constructor(message, traceback) {
        super(message);
        this.name = 'LuaError';
        this.traceback = traceback ?? null;
    }
}

export class Engine {
    /**
     * A new engine: its own Lua state and its own, empty, in-memory KV store.
     * @param {object} [options]
     * @param {string|URL|ArrayBuffer|Uint8Array|WebAssembly.Module} [options.wasm] where luat.wasm is
     *   (default: next to this file, `out/luat.wasm`); compiled once per location and shared.
     * @param {() => number} [options.now] the clock, in milliseconds since the epoch (default
     *   `Date.now`): the KV store's expirations and Lua's `os.time()` both read it.
     * @param {Record<string,string>} [options.files] Lua files by path under the project root
     *   (e.g. `{ 'src/lib/blog.lua': source }`), for `require`.
     * @param {boolean} [options.production] hide Lua error details in route responses (500).
     */
    static async create(options = {}) {
        const module = await compileModule(options.wasm);
        const engine = new Engine(options);
        const instance = await WebAssembly.instantiate(module, {
            luat: { now_ms: () => engine._now() },
            wasi_snapshot_preview1: wasiImports(engine),
        });
        engine._attach(instance);
        for (const [path, source] of Object.entries(options.files ?? {})) engine.writeFile(path, source);
        return engine;
    }

    constructor(options) {
        this._now = options.now ?? (() => Date.now());
        this._production = Boolean(options.production);
        this._output = [];
        this._broken = null;
    }

    _attach(instance) {
        this._exports = instance.exports;
        this._memory = instance.exports.memory;
        this._exports._initialize();
        const status = this._guard(() => this._exports.luat_init());
        if (status !== 0) {
            const { meta } = this._result();
            throw new LuaError(meta.error?.message ?? 'cannot create the Lua state', meta.error?.traceback);
        }
    }

    /** Runs a call into the module; a trap (a crash) leaves the engine unusable. */
    _guard(fn) {
        if (this._broken) throw new Error(`this engine stopped after an earlier crash: ${this._broken.message}`);
        try {
            return fn();
        } catch (error) {
            this._broken = error;
            throw error;
        }
    }

    _call(op, request) {
        const bytes = encoder.encode(JSON.stringify(request));
        this._output = [];
        return this._guard(() => {
            const pointer = this._exports.luat_alloc(bytes.length);
            new Uint8Array(this._memory.buffer).set(bytes, pointer);
            try {
                this._exports.luat_call(op, pointer, bytes.length);
            } finally {
                this._exports.luat_free(pointer);
            }
            return this._result();
        });
    }

    _result() {
        const pointer = this._exports.luat_result_ptr();
        const length = this._exports.luat_result_len();
        const all = new Uint8Array(this._memory.buffer, pointer, length);
        const metaLength = new DataView(this._memory.buffer, pointer, 4).getUint32(0, true);
        const meta = JSON.parse(decoder.decode(all.subarray(4, 4 + metaLength)));
        const body = all.slice(4 + metaLength);
        const output = this._takeOutput();
        return { meta, body, output };
    }

    _takeOutput() {
        const chunks = this._output;
        this._output = [];
        if (chunks.length === 0) return '';
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const all = new Uint8Array(total);
        let offset = 0;
        for (const c of chunks) { all.set(c, offset); offset += c.length; }
        return decoder.decode(all);
    }

    /**
     * Runs Lua source in the global environment (as `luat run` runs a file).
     * @returns {{ output: string, result: any, results: any[], error: null | { message: string, traceback?: string } }}
     *   `output` is what `print`/`io.write` wrote; `results` are the chunk's return values
     *   (tables as JSON values); `error` is the Lua error, if any (the call does not throw).
     */
    run(source, options = {}) {
        const { meta, output } = this._call(OP_RUN, { source: String(source), name: options.name ?? 'main.lua' });
        const results = meta.results ?? [];
        return { output, result: results[0] ?? null, results, error: meta.error ?? null };
    }

    /** `run`, but a Lua error throws a `LuaError` (with `.traceback` and `.output`). */
    eval(source, options = {}) {
        const r = this.run(source, options);
        if (r.error) {
            const e = new LuaError(r.error.message, r.error.traceback);
            e.output = r.output;
            throw e;
        }
        return r;
    }

    _dispatch(route, sources, context, options) {
        return this._response(this._call(OP_ROUTE, {
            route,
            sources,
            ctx: context,
            production: options.production ?? this._production,
        }));
    }

    _response({ meta, body, output }) {
        if (meta.error) throw new LuaError(meta.error.message, meta.error.traceback);
        const headers = {};
        for (const [name, value] of meta.headers) {
            const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
            if (existing) headers[existing] += ', ' + value; else headers[name] = value;
        }
        return { status: meta.status, headers, body: decoder.decode(body), bodyBytes: body, output };
    }

    _route(kind, source, ctx, options, defaultMethod, defaultFile) {
        const context = buildContext(ctx, defaultMethod);
        if (kind === 'action' && !['POST', 'PUT', 'PATCH', 'DELETE'].includes(context.method)) context.method = 'POST';
        if (kind === 'load' && context.method !== 'HEAD') context.method = 'GET';
        const file = options.file ?? defaultFile;
        const route = kind === 'api' ? { endpoint: file } : { page: file, layouts: options.layouts ?? [] };
        return this._dispatch(route, { [file]: String(source) }, context, options);
    }

    /**
     * Answers one request with route files the engine holds (`files` of `Engine.create`, or
     * `writeFile`), as `luat serve` answers a matched route folder: its `+server.lua`
     * (`endpoint`), its `+page.server.lua` (`page`) and the `+layout.server.lua` files on the
     * way to it (`layouts`, outermost first), all paths under the project root. The method
     * picks the function: the endpoint's, else the page's `load` (GET/HEAD, with the layouts'
     * data merged under it) or its `actions` (`?/name`). Files are loaded once and kept until
     * the next `writeFile`. Returns `{ status, headers, body, bodyBytes, output }`.
     * @param {{ endpoint?: string, page?: string, layouts?: string[] }} route
     * @param {object} [ctx] the request (see `buildContext`)
     * @param {{ production?: boolean }} [options]
     */
    executeRoute(route, ctx = {}, options = {}) {
        const files = { endpoint: route.endpoint ?? null, page: route.page ?? null, layouts: route.layouts ?? [] };
        return this._dispatch(files, {}, buildContext(ctx, 'GET'), options);
    }

    /**
     * Runs a `+server.lua` source for one request: the global function named after
     * `ctx.method` (default GET). Returns `{ status, headers, body }` as `luat serve` would
     * answer (plus `bodyBytes` and `output`, what the code printed).
     * @param {string} source the file's Lua source
     * @param {object} [ctx] the request (see `buildContext`)
     * @param {{ file?: string, production?: boolean }} [options] `file`: the route file's path
     *   (default `src/routes/+server.lua`), used in error messages and by relative `require`.
     */
    executeApi(source, ctx = {}, options = {}) {
        return this._route('api', source, ctx, options, 'GET', 'src/routes/+server.lua');
    }

    /**
     * Runs a form action of a `+page.server.lua` source: `actions[name]`, the name from
     * `ctx.action` or the URL's `?/name` (default `default`), for `ctx.method` (default POST).
     * Returns `{ status, headers, body }`: a redirect is 303 with `Location`, `fail(status, data)`
     * sets the status, other keys form the JSON body.
     */
    executeAction(source, ctx = {}, options = {}) {
        return this._route('action', source, ctx, options, 'POST', 'src/routes/+page.server.lua');
    }

    /**
     * Runs `load(ctx)` of a `+page.server.lua` source (a GET of the page): `{ status, headers, body }`.
     * `options.layouts` (paths of files the engine holds) merge their `load` data under the page's.
     */
    executeLoad(source, ctx = {}, options = {}) {
        return this._route('load', source, ctx, options, 'GET', 'src/routes/+page.server.lua');
    }

    /**
     * The route that answers `path` among the files under `src/routes` the engine holds,
     * found and matched by the same Swift code as `luat serve` (static segments first, then
     * `[name]`, then `[[optional]]` and `[...rest]`; `(group)` folders add no segment).
     * @param {string} path a request path (percent-encoded as sent; a query is ignored)
     * @returns {null | { folder: string, pattern: string, endpoint: string|null, page: string|null,
     *   layouts: string[], params: Record<string,string> }} null when no route matches
     */
    route(path) {
        const { meta } = this._call(OP_MATCH, { path: String(path) });
        if (meta.error) throw new LuaError(meta.error.message);
        if (!meta.route) return null;
        return { ...meta.route, params: meta.params };
    }

    /**
     * Answers one HTTP request with the routes under `src/routes`, as `luat serve` does: the
     * path is matched (404 when nothing matches, 400 for a path with `..` or an encoded `/`),
     * `ctx` is built from the method, URL, headers and body by the same Swift code as the
     * native server (query, `?/action`, JSON, URL-encoded and multipart bodies), then the
     * route answers. `src/hooks.server.lua` is not run here (run it with `eval` first).
     * @param {string} method
     * @param {string} url a path with its query (`/blog?x=1`) or an absolute URL
     * @param {{ headers?: object, body?: string | object, production?: boolean }} [init] an object
     *   `body` is sent as JSON (with `content-type: application/json` unless given)
     * @returns {{ status: number, headers: object, body: string, bodyBytes: Uint8Array, output: string }}
     */
    request(method, url, init = {}) {
        const headers = Object.entries(plainHeaders(init.headers));
        let body = init.body;
        if (body !== undefined && body !== null && typeof body !== 'string') {
            body = JSON.stringify(body);
            if (!headers.some(([name]) => name === 'content-type')) headers.push(['content-type', 'application/json']);
        }
        return this._response(this._call(OP_REQUEST, {
            method: String(method),
            url: String(url),
            headers,
            body: body ?? undefined,
            production: init.production ?? this._production,
        }));
    }

    /** Adds or replaces a Lua file (path under the project root) that `require` can load. */
    writeFile(path, source) {
        const { meta } = this._call(OP_WRITE_FILE, { path: String(path), source: String(source) });
        if (meta.error) throw new LuaError(meta.error.message);
    }
}

export default Engine;
