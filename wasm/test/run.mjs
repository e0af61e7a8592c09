// Runs every wasm/test/*.test.mjs; `node run.mjs [filter]`. Exit status 1 when a test failed.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runAll } from './harness.mjs';

const dir = path.dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort()) {
    await import(path.join(dir, file));
}
const failed = await runAll(process.argv[2]);
process.exit(failed ? 1 : 0);
