// Per-process resource limits (issue 11.4): --max-process-memory caps a process's wasm memory
// (and its worker's JS heap); a process that grows past it is ended with the reason printed,
// its on-exit behaviour runs, and the rest of the node keeps running.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootNode, cleanupTempDirs, cmd, makePackage, tempDir } from './helpers.js';

after(() => cleanupTempDirs());

const MiB = 2 ** 20;

describe('--max-process-memory', () => {
  it('a process that grows past the cap is ended with the reason printed; on-exit runs; the node keeps running', async () => {
    const dir = await makePackage({
      packageName: 'limits',
      publisher: 'test.os',
      witVersion: null,
      processes: [
        { name: 'hog', wasm: 'probe-v1' },
        { name: 'steady', wasm: 'probe-v0' },
      ],
    });
    const node = await bootNode({ packages: [dir], verbosity: 0, maxProcessMemoryBytes: 64 * MiB });
    try {
      for (const p of ['hog', 'steady']) await node.waitForPrint(new RegExp(`probe ready fake\\.dev@${p}:limits:test\\.os`), 60000);
      // the probe keeps every non-command message in its inbox: each 8 MiB blob stays in its
      // memory (as base64) until the inbox is read, so a bounded number of them passes 64 MiB
      const hog = 'fake.dev@hog:limits:test.os';
      await cmd(node, hog, { op: 'setOnExit', onExit: { Requests: [['fake.dev@driver:kinode-host:sys', { body: 'hog is gone' }]] } });
      const blob = { bytes: new Uint8Array(8 * MiB).fill(0x61) };
      const ended = /process fake\.dev@hog:limits:test\.os ended with error/;
      for (let i = 0; i < 16 && !node.prints.some((l) => ended.test(l)); i++) {
        await node.driver().request(hog, 'keep this', { blob });
        await new Promise((r) => setTimeout(r, 500));
      }
      const line = await node.waitForPrint(ended, 60000);
      assert.match(line, /exceeded the process memory limit \(--max-process-memory 64 MiB\): wasm memory \d+(\.\d)? MiB/);
      // its on-exit behaviour ran
      const gone = await node.driver().waitFor((r) => r.text === 'hog is gone', 30000);
      assert.equal(gone.source, hog);
      // the node and its other processes keep running
      assert.equal(node.kernel.has({ processName: 'hog', packageName: 'limits', publisherNode: 'test.os' }), false);
      assert.deepEqual(await cmd(node, 'fake.dev@steady:limits:test.os', { op: 'getOnExit' }), 'None');
    } finally {
      await node.stop();
    }
  });

  it('a second node on the same home (modules compiled from the cached component) applies its own cap, both generations', async () => {
    // the first node transpiles under a roomy cap; the second finds the transpile cache on disk
    // and compiles the core modules from the component's own bytes (meta.json `cores`), with
    // the memory section rewritten in place for its own, smaller cap
    const home = tempDir('kh-home-');
    const pkg = (name: string) =>
      makePackage({
        packageName: name,
        publisher: 'test.os',
        witVersion: null,
        processes: [
          { name: 'hog', wasm: 'probe-v1' },
          { name: 'steady', wasm: 'probe-v0' },
        ],
      });
    const first = await bootNode({ home, packages: [await pkg('warm1')], verbosity: 0, maxProcessMemoryBytes: 256 * MiB });
    try {
      for (const p of ['hog', 'steady']) await first.waitForPrint(new RegExp(`probe ready fake\\.dev@${p}:warm1:test\\.os`), 60000);
    } finally {
      await first.stop();
    }
    const cacheDir = join(home, 'cache', 'components');
    const metas = readdirSync(cacheDir).map((d) => join(cacheDir, d, 'meta.json')).filter((m) => existsSync(m));
    assert.equal(metas.length, 2);
    for (const m of metas) assert.ok(Object.keys((JSON.parse(readFileSync(m, 'utf8')) as { cores: object }).cores).length > 0, m);

    const node = await bootNode({ home, packages: [await pkg('warm2')], verbosity: 0, maxProcessMemoryBytes: 64 * MiB });
    try {
      for (const p of ['hog', 'steady']) await node.waitForPrint(new RegExp(`probe ready fake\\.dev@${p}:warm2:test\\.os`), 60000);
      const hog = 'fake.dev@hog:warm2:test.os';
      const blob = { bytes: new Uint8Array(8 * MiB).fill(0x61) };
      const ended = /process fake\.dev@hog:warm2:test\.os ended with error/;
      for (let i = 0; i < 16 && !node.prints.some((l) => ended.test(l)); i++) {
        await node.driver().request(hog, 'keep this', { blob });
        await new Promise((r) => setTimeout(r, 500));
      }
      const line = await node.waitForPrint(ended, 60000);
      assert.match(line, /exceeded the process memory limit \(--max-process-memory 64 MiB\): wasm memory \d+(\.\d)? MiB/);
      assert.deepEqual(await cmd(node, 'fake.dev@steady:warm2:test.os', { op: 'getOnExit' }), 'None');
    } finally {
      await node.stop();
    }
  });

  it('the cap leaves a process below it alone', async () => {
    const dir = await makePackage({
      packageName: 'roomy',
      publisher: 'test.os',
      witVersion: null,
      processes: [{ name: 'p', wasm: 'probe-v0' }],
    });
    const node = await bootNode({ packages: [dir], verbosity: 0, maxProcessMemoryBytes: 256 * MiB });
    try {
      await node.waitForPrint(/probe ready fake\.dev@p:roomy:test\.os/, 60000);
      const p = 'fake.dev@p:roomy:test.os';
      // kept in the probe's inbox, well below the cap (the probe has no JIT: its base64 of a blob
      // takes about a second per 100 KiB, so the blobs are small)
      for (let i = 0; i < 3; i++) await node.driver().request(p, 'keep this', { blob: { bytes: new Uint8Array(32 * 1024) } });
      const inbox = await cmd<unknown[]>(node, p, { op: 'inbox' }, 120);
      assert.equal(inbox.length, 3);
      assert.equal(node.prints.some((l) => /ended with error/.test(l)), false, node.prints.join('\n'));
    } finally {
      await node.stop();
    }
  });
});
