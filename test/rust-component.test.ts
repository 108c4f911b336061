// Rust-built components, made the way kit makes them (wasm32-wasip1 std + the WASI preview1
// reactor adapter): they import kinode:process/standard plus the WASI 0.2 interfaces the adapter
// needs, and must run unmodified. Built by components/rust/build.mjs when the Debian Rust web
// toolchain is installed (.ci/run installs it); skipped, and said so, otherwise.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { bootNode, cleanupTempDirs, makePackage, tempDir } from './helpers.js';

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
        await node.driver().request(echo, 'tmp-write');
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

    it('a second boot on the same home uses the transpile cache and the glue code cache; a bad code cache is replaced', async () => {
      const pkg = `rcache${gen}`;
      const dir = await makePackage({ packageName: pkg, publisher: 'test.os', witVersion: gen, processes: [{ name: 'echo', wasm }] });
      const home = tempDir('kh-home-');
      const hash = createHash('sha256').update(readFileSync(wasm)).digest('hex');
      const cacheDir = join(home, 'cache', 'components');
      // <sha256>-<cache format>/
      const entry = () => join(cacheDir, readdirSync(cacheDir).find((d) => d.startsWith(`${hash}-`)) ?? 'missing');
      const glue = () => join(entry(), 'component.mjs');
      const codeCache = () => `${glue()}.v8cache`;
      const boot = async () => {
        const node = await bootNode({ home, packages: [dir] });
        try {
          const echo = `fake.dev@echo:${pkg}:test.os`;
          await node.waitForPrint(new RegExp(`rust echo ready ${echo.replace(/\./g, '\\.')}$`));
          assert.equal((await node.driver().request(echo, 'still here', { expects: 5 })).text, 'still here');
        } finally {
          await node.stop();
        }
      };
      await boot();
      assert.ok(existsSync(glue()), 'the transpiled glue is cached under the home, keyed by the wasm sha256');
      assert.ok(existsSync(codeCache()), 'the glue code cache is written by the first start');
      const glueMtime = statSync(glue()).mtimeMs;
      const cacheBytes = readFileSync(codeCache());
      await boot();
      assert.equal(statSync(glue()).mtimeMs, glueMtime, 'no second transpile');
      assert.deepEqual(readFileSync(codeCache()), cacheBytes, 'an accepted code cache is left as it is');
      writeFileSync(codeCache(), 'not a code cache');
      await boot();
      assert.notEqual(readFileSync(codeCache(), 'utf8').slice(0, 16), 'not a code cache', 'a rejected code cache is rewritten');
    });

    // the behaviours npm run bench drives: HTTP answers, WebSocket echo, a request/response flood
    it('serves HTTP on /, echoes WebSocket frames on /ws, floods another process', async () => {
      const pkg = `rserve${gen}`;
      const hs = gen === 0 ? 'http_server:distro:sys' : 'http-server:distro:sys';
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'web', wasm, requestCapabilities: [hs], grantCapabilities: [hs] },
          { name: 'a', wasm, public: true }, // b's responses are capability-checked too
          { name: 'b', wasm, public: true },
        ],
      });
      const node = await bootNode({ packages: [dir] });
      try {
        const web = `fake.dev@web:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`rust echo ready ${web.replace(/\./g, '\\.')}$`));
        await node.driver().request(web, 'serve-http');
        // two binds (HTTP `/`, WebSocket `/ws`), two Ok replies
        const bound = /rust echo bind reply: \{"Ok":null\}/;
        await node.waitForPrint(bound);
        await node.waitForPrint(bound, 5000, node.prints.findIndex((l) => bound.test(l)) + 1);
        const res = await fetch(`http://127.0.0.1:${node.port}/web:${pkg}:test.os/some/where?x=1`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'text/plain');
        assert.equal(await res.text(), `hello from ${web}\nGET http://127.0.0.1/web:${pkg}:test.os/some/where\n`);

        const ws = new WebSocket(`ws://127.0.0.1:${node.port}/web:${pkg}:test.os/ws`, { perMessageDeflate: false });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        const echoes: Buffer[] = [];
        const got = new Promise<void>((resolve) =>
          ws.on('message', (data, isBinary) => {
            assert.equal(isBinary, true);
            echoes.push(data as Buffer);
            if (echoes.length === 3) resolve();
          }),
        );
        for (const s of ['one', 'two', 'three']) ws.send(Buffer.from(s), { binary: true });
        await got;
        assert.deepEqual(echoes.map((b) => b.toString()), ['one', 'two', 'three']);
        ws.close();

        const a = `fake.dev@a:${pkg}:test.os`;
        await node.driver().request(a, `flood fake.dev@b:${pkg}:test.os 500 16`);
        const done = await node.driver().waitFor((m) => m.source === a && m.text.startsWith('flood done'), 20000);
        assert.match(done.text, /^flood done 500 0 \d+\.\d{3}$/);
        // fire-and-forget: b takes them all; a request queued behind them is answered after
        const earlier = new Set(node.driver().received);
        await node.driver().request(a, `flood fake.dev@b:${pkg}:test.os 300 0`);
        await node.driver().waitFor((m) => !earlier.has(m) && m.source === a && m.text.startsWith('flood done 300 0 '), 20000);
        assert.equal((await node.driver().request(`fake.dev@b:${pkg}:test.os`, 'behind the flood', { expects: 10 })).text, 'behind the flood');
      } finally {
        await node.stop();
      }
    });
  });
}
