// A minimal test harness: `test(name, fn)` registers, `runAll()` runs every registered test
// in order and prints one line per test plus the closing `N passed, N failed`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Engine } from '../luat.mjs';

export { assert, Engine };

const tests = [];
export function test(name, fn) { tests.push({ name, fn }); }

export async function runAll(filter) {
    let passed = 0, failed = 0;
    for (const t of tests) {
        if (filter && !t.name.includes(filter)) continue;
        const started = performance.now();
        try {
            await t.fn();
            passed++;
            console.log(`ok   ${t.name} (${Math.round(performance.now() - started)} ms)`);
        } catch (error) {
            failed++;
            console.log(`FAIL ${t.name}\n     ${String(error?.stack ?? error).split('\n').join('\n     ')}`);
        }
    }
    console.log(`${passed} passed, ${failed} failed`);
    return failed;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A clock the tests move by hand (milliseconds), like the native tests' ManualClock. */
export function manualClock(seconds = Math.floor(Date.now() / 1000)) {
    const clock = { ms: seconds * 1000 };
    clock.now = () => clock.ms;
    clock.seconds = () => Math.floor(clock.ms / 1000);
    clock.advance = (s) => { clock.ms += s * 1000; };
    return clock;
}

/** Runs Lua and returns its results; a Lua error fails the test with its traceback. */
export function lua(engine, source, name) {
    const r = engine.run(source, name ? { name } : {});
    if (r.error) throw new Error(`Lua error: ${r.error.message}\n${r.error.traceback ?? ''}\noutput: ${r.output}`);
    return r;
}

/** The message a Lua snippet raises, caught with pcall inside Lua. */
export function errorMessage(engine, source) {
    const r = lua(engine, `local ok, err = pcall(function() ${source} end)\nif ok then return nil end\nreturn tostring(err)`);
    return r.result;
}

/** Names of the live keys of a namespace, through Lua. */
export function keys(engine, namespace) {
    const r = lua(engine, `local names, cursor = {}, nil
        repeat
            local page = KV.namespace(...):list({ cursor = cursor })
            for _, k in ipairs(page.keys) do names[#names + 1] = k.name end
            cursor = page.cursor
        until page.list_complete
        return setmetatable(names, { __jsontype = "array" })`.replace('...', JSON.stringify(namespace)));
    return r.result;
}

// What the native tests check too: the spec's samples (shared files) and the KV error
// messages (read from the native test source).

function unescapeSwift(text) {
    return text.replace(/\\(u\{[0-9a-fA-F]+\}|.)/g, (_, e) => {
        if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
        return { n: '\n', t: '\t', r: '\r', '0': '\0', '"': '"', "'": "'", '\\': '\\' }[e] ?? e;
    });
}

/** The spec's Lua samples, each kept once in Tests/Shared/spec-samples/<name>.lua (the native
 * tests read the same files): name → text without the final newline. */
export function specSamples() {
    const dir = path.join(repoRoot, 'Tests/Shared/spec-samples');
    const out = {};
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
        out[file.slice(0, -4)] = readFileSync(path.join(dir, file), 'utf8').replace(/\n$/, '');
    }
    return out;
}

/** The `static let NAME = """ ... """` Lua sources of a native test file (the atomic-commit
 * examples of KVAtomicTests.swift): name → text, indentation and escapes removed. */
export function swiftMultilineStrings(relativePath) {
    const text = readFileSync(path.join(repoRoot, relativePath), 'utf8');
    const out = {};
    const re = /static let (\w+) = """\n([\s\S]*?)\n([ \t]*)"""/g;
    let m;
    while ((m = re.exec(text))) {
        const indent = m[3];
        const body = m[2].split('\n').map((line) => line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()).join('\n');
        out[m[1]] = unescapeSwift(body);
    }
    return out;
}

/** `Case("lua", "message")` lines of the native KV error tests. */
export function swiftErrorCases(relativePath, substitutions) {
    const text = readFileSync(path.join(repoRoot, relativePath), 'utf8');
    const cases = [];
    const str = String.raw`"((?:[^"\\]|\\.)*)"`;
    const re = new RegExp(String.raw`^\s*Case\(${str},\s*${str}\),?\s*$`, 'gm');
    let m;
    while ((m = re.exec(text))) {
        let lua = m[1];
        for (const [from, to] of Object.entries(substitutions)) lua = lua.split(from).join(to);
        cases.push({ lua: unescapeSwift(lua), message: unescapeSwift(m[2]) });
    }
    return cases;
}
