// Rust-built components, made the way kit makes them (wasm32-wasip1 std + the WASI preview1
// reactor adapter): they import kinode:process/standard plus the WASI 0.2 interfaces the adapter
// needs, and must run unmodified. Built by components/rust/build.mjs when the Debian Rust web
// toolchain is installed (.ci/run installs it); skipped, and said so, otherwise.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

const built = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/rust-echo-v${gen}.wasm`, import.meta.url));

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  const wasm = built(gen);
  describe(`Rust-built component, process-v${gen}`, { skip: existsSync(wasm) ? false : `${wasm} not built (no Rust web toolchain)` }, () => {
    it('boots, uses WASI (TEMP_DIR preopen), echoes body and blob, traps with its stderr', async () => {
      const pkg = `recho${gen}`;
      const dir = await makePackage({ packageName: pkg, publisher: 'test.os', witVersion: gen, processes: [{ name: 'echo', wasm }, { name: 'echo2', wasm }] });
      const node = await bootNode({ packages: [dir] });
      try {
        const echo = `fake.dev@echo:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`^${pkg}:test\\.os: rust echo ready ${echo.replace(/\./g, '\\.')}$`));
        await node.waitForPrint(new RegExp(`^${pkg}:test\\.os: tmp write ok$`));
        const tmpFile = join(node.opts.home, 'vfs', `${pkg}:test.os`, 'tmp', 'rust-echo.txt');
        assert.ok(readFileSync(tmpFile).length > 0);
        const r = await node.driver().request(echo, 'hello rust', { expects: 5, blob: { mime: 'text/plain', bytes: 'blob bytes' } });
        assert.equal(r.text, 'hello rust');
        assert.equal(new TextDecoder().decode(r.blob!.bytes), 'blob bytes');
        assert.equal(r.blob!.mime, 'text/plain');
        await node.driver().request(echo, 'trap');
        const err = await node.waitForPrint(new RegExp(`process ${echo.replace(/\./g, '\\.')} ended with error`));
        assert.match(err, /rust echo trap/);
        await node.driver().request(`fake.dev@echo2:${pkg}:test.os`, 'exit');
        await node.waitForPrint(new RegExp(`process fake\\.dev@echo2:${pkg}:test\\.os returned without error`));
      } finally {
        await node.stop();
      }
    });
  });
}
