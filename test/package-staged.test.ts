// An install hands the wasm bytes it has just written to the drive straight to the process's
// first start (host/package/install.ts, docs/performance.md §20). These tests check that no
// start runs a stale copy: a later install's process runs that install's wasm even when an
// earlier install's start is still to come, a restart reads the drive as it is now, and two
// processes of one wasm file both start. Told apart by behaviour: rust-poll answers
// `sleep 1` with `slept 1`, rust-echo echoes it.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stagePackage } from '../host/package/install.js';
import { readPackage } from '../host/package/source.js';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

const built = (name: string): string => fileURLToPath(new URL(`../../components/build/${name}.wasm`, import.meta.url));

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  const echo = built(`rust-echo-v${gen}`);
  const poll = built(`rust-poll-v${gen}`);
  const missing = [echo, poll].find((f) => !existsSync(f));
  describe(`staged wasm handed to the start, process-v${gen}`, { skip: missing ? `${missing} not built (no Rust web toolchain)` : false }, () => {
    const pkgOf = async (pkg: string, wasm: string, onExit = 'None', names = ['p']) =>
      makePackage({ packageName: pkg, publisher: 'test.os', witVersion: gen, processes: names.map((name) => ({ name, wasm, onExit })) });
    const answer = async (node: Awaited<ReturnType<typeof bootNode>>, who: string) => (await node.driver().request(who, 'sleep 1', { expects: 10 })).text;

    it('interleaved installs of one package: the process runs the wasm of the later install', async () => {
      const pkg = `stg${gen}`;
      const who = `fake.dev@p:${pkg}:test.os`;
      const node = await bootNode();
      try {
        // both staged (written, initialized) before either runs, as two app-store installs can be
        const first = await stagePackage(node.kernel, node.drive, await readPackage(await pkgOf(pkg, echo)));
        const second = await stagePackage(node.kernel, node.drive, await readPackage(await pkgOf(pkg, poll)));
        const from = node.printCount;
        assert.deepEqual((await first.run()).length, 1); // starts the later install's process
        assert.deepEqual((await second.run()).length, 0); // already running
        await node.waitForPrint(/rust echo ready/, 20000, from);
        assert.equal(await answer(node, who), 'slept 1');
      } finally {
        await node.stop();
      }
    });

    it('a restart reads the drive as it is now, not the install\'s bytes', async () => {
      const pkg = `rst${gen}`;
      const who = `fake.dev@p:${pkg}:test.os`;
      const node = await bootNode();
      try {
        await node.install(await pkgOf(pkg, echo, 'Restart'));
        await node.waitForPrint(new RegExp(`rust echo ready ${who.replace(/\./g, '\\.')}`));
        assert.equal(await answer(node, who), 'sleep 1');
        // the file on the drive changes; the process ends and its on-exit restarts it
        copyFileSync(poll, join(node.opts.home, 'vfs', `${pkg}:test.os`, 'pkg', 'p.wasm'));
        const from = node.printCount;
        await node.driver().request(who, 'trap');
        await node.waitForPrint(new RegExp(`rust echo ready ${who.replace(/\./g, '\\.')}`), 20000, from);
        assert.equal(await answer(node, who), 'slept 1');
      } finally {
        await node.stop();
      }
    });

    it('two processes of one wasm file both start (the second reads the drive)', async () => {
      const pkg = `two${gen}`;
      const node = await bootNode();
      try {
        const dir = await pkgOf(pkg, poll, 'None', ['a', 'b']);
        // both entries name the same file
        const manifestPath = join(dir, 'pkg', 'manifest.json');
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Array<{ process_wasm_path: string }>;
        for (const e of manifest) e.process_wasm_path = '/a.wasm';
        writeFileSync(manifestPath, JSON.stringify(manifest));
        const r = await node.install(dir);
        assert.equal(r.started.length, 2);
        for (const name of ['a', 'b']) assert.equal(await answer(node, `fake.dev@${name}:${pkg}:test.os`), 'slept 1');
      } finally {
        await node.stop();
      }
    });
  });
}
