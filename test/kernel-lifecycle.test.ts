// Process lifecycle: init outcomes, on-exit, restart backoff, busy processes, spawn,
// persistence across node restarts, and the bad packages that must not stop a node.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage, tempDir } from './helpers.js';

after(() => cleanupTempDirs());

describe('init outcomes and on-exit', () => {
  it('a trap in init prints the error; on-exit None removes the process; others keep running', async () => {
    const dir = await makePackage({
      packageName: 'life',
      publisher: 'test.os',
      processes: [
        { name: 'trap-init', wasm: 'probe-v1' },
        { name: 'exit-init', wasm: 'probe-v0' , onExit: 'None'},
        { name: 'ok', wasm: 'probe-v1' },
      ],
      witVersion: null,
    });
    const node = await bootNode({ packages: [dir] });
    try {
      const err = await node.waitForPrint(/process fake\.dev@trap-init:life:test\.os ended with error/);
      assert.match(err, /init trap/);
      await node.waitForPrint(/process trap-init:life:test\.os has OnExit behavior None/);
      await node.waitForPrint(/process fake\.dev@exit-init:life:test\.os returned without error/);
      await node.waitForPrint(/life:test\.os: probe ready fake\.dev@ok:life:test\.os/);
      // the removed process is unknown now: an immediate timeout
      const ok = 'fake.dev@ok:life:test.os';
      await cmd(node, ok, { op: 'saveCaps', caps: [{ issuer: 'fake.dev@trap-init:life:test.os', params: '"messaging"' }] });
      await cmd(node, ok, { op: 'send', target: 'fake.dev@trap-init:life:test.os', body: 'x', expects: 100000, context: 'gone' });
      const inbox = await inboxUntil(node, ok, (all) => all.some((e) => e.context === 'gone'));
      assert.equal(inbox[0]!.kind, 'error');
    } finally {
      await node.stop();
    }
  });

  it('a process that keeps trapping with on-exit Restart is restarted with growing delays and never stalls the node', async () => {
    const dir = await makePackage({
      packageName: 'crashy',
      publisher: 'test.os',
      processes: [
        { name: 'restart-loop', wasm: 'probe-v0', onExit: 'Restart' },
        { name: 'steady', wasm: 'probe-v0' },
      ],
    });
    const node = await bootNode({ packages: [dir] });
    try {
      await node.waitForPrint(/crashy:test\.os: start 4/, 30000);
      const delays = node.prints
        .map((l) => /kernel: restarting process restart-loop:crashy:test\.os in (\d+) ms/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]));
      assert.ok(delays.length >= 3, node.prints.join('\n'));
      assert.equal(delays[0], 0, 'first restart is immediate');
      // an instance that dies inside its window waits; on a loaded machine an instance may take
      // longer than the 1 s window to start and die (then its restart is rightly immediate), so
      // wait for the first waiting restart rather than asserting that every one waits
      await node.waitForPrint(/kernel: restarting process restart-loop:crashy:test\.os in [1-9]\d* ms/, 60000);
      // a steady neighbour answers all along, and the counter in state survived every restart
      assert.equal(await cmd(node, 'fake.dev@steady:crashy:test.os', { op: 'print', text: 'steady is fine' }), null);
      const starts = node.prints.filter((l) => /crashy:test\.os: start \d+/.test(l)).map((l) => Number(l.split(' ').pop()));
      assert.deepEqual(starts.slice(0, 4), [1, 2, 3, 4]);
    } finally {
      await node.stop();
    }
  });

  it('an infinite loop in one process does not delay another', async () => {
    const dir = await makePackage({
      packageName: 'busy',
      publisher: 'test.os',
      processes: [
        { name: 'spin-init', wasm: 'probe-v1' },
        { name: 'spin-later', wasm: 'probe-v1' },
        { name: 'worker', wasm: 'probe-v1' },
      ],
    });
    const node = await bootNode({ packages: [dir] });
    try {
      await node.waitForPrint(/busy:test\.os: spinning/);
      await node.waitForPrint(/probe ready fake\.dev@spin-later/);
      await node.driver().request('fake.dev@spin-later:busy:test.os', { op: 'spin' });
      for (let i = 0; i < 20; i++) {
        assert.equal(await cmd(node, 'fake.dev@worker:busy:test.os', { op: 'print', text: `tick ${i}` }), null);
      }
      await node.waitForPrint(/tick 19/);
    } finally {
      await node.stop();
    }
  });

  it('on-exit Requests sends its requests when the process ends', async () => {
    const dir = await makePackage({
      packageName: 'farewell',
      publisher: 'test.os',
      processes: [{ name: 'p', wasm: 'probe-v1' }],
    });
    const node = await bootNode({ packages: [dir] });
    try {
      const p = 'fake.dev@p:farewell:test.os';
      await node.waitForPrint(/probe ready fake\.dev@p:farewell/);
      await cmd(node, p, {
        op: 'setOnExit',
        onExit: { Requests: [['fake.dev@driver:kinode-host:sys', { body: 'goodbye', expects: 30 }, { mime: 'text/plain', text: 'last words' }]] },
      });
      await node.driver().request(p, { op: 'exit' });
      const got = await node.driver().waitFor((r) => r.text === 'goodbye');
      assert.equal(got.source, p);
      assert.equal(new TextDecoder().decode(got.blob!.bytes), 'last words');
    } finally {
      await node.stop();
    }
  });
});

describe('spawn', () => {
  for (const gen of [0, 1] as const) {
    it(`spawns a child from the package drive (process-v${gen}), refuses a taken name and a missing file`, async () => {
      const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';
      const dir = await makePackage({
        packageName: `sp${gen}`,
        publisher: 'test.os',
        processes: [{ name: 'parent', wasm }],
        files: { 'child.wasm': wasm },
      });
      const node = await bootNode({ packages: [dir] });
      try {
        const parent = `fake.dev@parent:sp${gen}:test.os`;
        await node.waitForPrint(new RegExp(`probe ready ${parent}`));
        const grant = gen === 0 ? ['parent:sp0:test.os'] : [['parent:sp1:test.os', '"custom"']];
        const r = await cmd<{ ok?: string; err?: string }>(node, parent, {
          op: 'spawn',
          name: 'kid',
          wasmPath: `/sp${gen}:test.os/pkg/child.wasm`,
          onExit: 'None',
          requestCaps: [],
          grantCaps: grant,
          public: false,
        });
        assert.deepEqual(r, { ok: `kid:sp${gen}:test.os` });
        await node.waitForPrint(new RegExp(`probe ready fake\\.dev@kid:sp${gen}:test\\.os`));
        // parent and child may message each other
        const a = await cmd<{ ok: { source: string } }>(node, parent, {
          op: 'await',
          target: `fake.dev@kid:sp${gen}:test.os`,
          body: { op: 'print', text: 'hi kid' },
          expects: 5,
        });
        assert.equal(a.ok.source, `fake.dev@kid:sp${gen}:test.os`);
        const caps = await cmd<Array<{ issuer: string; params: string }>>(node, parent, { op: 'ourCaps' });
        assert.ok(caps.some((c) => c.issuer === `fake.dev@kid:sp${gen}:test.os` && c.params === (gen === 0 ? '"messaging"' : '"custom"')));
        const taken = await cmd(node, parent, { op: 'spawn', name: 'kid', wasmPath: `/sp${gen}:test.os/pkg/child.wasm`, onExit: 'None', requestCaps: [], grantCaps: [], public: false });
        assert.deepEqual(taken, { err: 'name-taken' });
        const missing = await cmd(node, parent, { op: 'spawn', name: 'kid2', wasmPath: `/sp${gen}:test.os/pkg/nope.wasm`, onExit: 'None', requestCaps: [], grantCaps: [], public: false });
        assert.deepEqual(missing, { err: 'no-file-at-path' });
        const foreign = await cmd(node, parent, { op: 'spawn', name: 'kid3', wasmPath: `/other:test.os/pkg/child.wasm`, onExit: 'None', requestCaps: [], grantCaps: [], public: false });
        assert.deepEqual(foreign, { err: 'no-file-at-path' });
        // an unnamed child gets a random u64 name
        const anon = await cmd<{ ok: string }>(node, parent, { op: 'spawn', wasmPath: `/sp${gen}:test.os/pkg/child.wasm`, onExit: 'None', requestCaps: [], grantCaps: [], public: false });
        assert.match(anon.ok, new RegExp(`^\\d+:sp${gen}:test\\.os$`));
      } finally {
        await node.stop();
      }
    });
  }
});

describe('persistence', () => {
  it('state and Restart processes survive a node restart; a reinstall keeps state', async () => {
    const home = tempDir('kh-persist-');
    const dir = await makePackage({
      packageName: 'keep',
      publisher: 'test.os',
      processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }],
    });
    const p = 'fake.dev@p:keep:test.os';
    let node = await bootNode({ home, packages: [dir] });
    await node.waitForPrint(/probe ready fake\.dev@p:keep/);
    await cmd(node, p, { op: 'setState', text: 'remember me' });
    await node.stop();

    // no package given: the persisted process comes back by itself
    node = await bootNode({ home });
    try {
      await node.waitForPrint(/probe ready fake\.dev@p:keep/);
      assert.equal((await cmd<{ text: string }>(node, p, { op: 'getState' })).text, 'remember me');
      await node.install(dir);
      await node.waitForPrint(/probe ready fake\.dev@p:keep/, 20000, node.printCount);
      assert.equal((await cmd<{ text: string }>(node, p, { op: 'getState' })).text, 'remember me');
    } finally {
      await node.stop();
    }
  });
});

describe('bad packages', () => {
  it('a non-component, a wrong world, a broken manifest and a missing wasm each get one clear error; the rest runs', async () => {
    const root = tempDir('kh-bad-');
    const notComponent = join(root, 'notwasm');
    mkdirSync(join(notComponent, 'pkg'), { recursive: true });
    writeFileSync(join(notComponent, 'metadata.json'), JSON.stringify({ properties: { package_name: 'notwasm', publisher: 'test.os', current_version: '0.1.0', mirrors: [], code_hashes: {}, wit_version: 1 } }));
    writeFileSync(join(notComponent, 'pkg', 'x.wasm'), 'this is not wasm');
    writeFileSync(
      join(notComponent, 'pkg', 'manifest.json'),
      JSON.stringify([{ process_name: 'x', process_wasm_path: '/x.wasm', on_exit: 'None', request_networking: false, request_capabilities: [], grant_capabilities: [], public: false }]),
    );
    // the smallest valid component: no imports, no exports, so no init
    const noInit = await makePackage({
      packageName: 'noinit',
      publisher: 'test.os',
      witVersion: 1,
      processes: [{ name: 'n', wasm: 'probe-v1' }],
    });
    // the package's wasm is a hard link to the built probe: unlink before writing
    rmSync(join(noInit, 'pkg', 'n.wasm'));
    writeFileSync(join(noInit, 'pkg', 'n.wasm'), Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]));
    const wrongWorld = await makePackage({ packageName: 'wrongworld', publisher: 'test.os', witVersion: 1, processes: [{ name: 'w', wasm: 'probe-v0' }] });
    const broken = join(root, 'broken');
    mkdirSync(join(broken, 'pkg'), { recursive: true });
    writeFileSync(join(broken, 'metadata.json'), JSON.stringify({ properties: { package_name: 'broken', publisher: 'test.os' } }));
    writeFileSync(join(broken, 'pkg', 'manifest.json'), '[{"process_name": "oops",');
    const good = await makePackage({ packageName: 'good', publisher: 'test.os', processes: [{ name: 'g', wasm: 'probe-v0' }] });

    const node = await bootNode({ packages: [notComponent, noInit, wrongWorld, broken, join(root, 'does-not-exist'), good] });
    try {
      await node.waitForPrint(/probe ready fake\.dev@g:good:test\.os/);
      const errors = node.prints.filter((l) => /failed to instantiate|cannot install/.test(l));
      assert.ok(errors.some((l) => /x:notwasm:test\.os.*x\.wasm: not a WebAssembly binary/.test(l)), errors.join('\n'));
      assert.ok(errors.some((l) => /n:noinit:test\.os.*n\.wasm: component does not export init/.test(l)), errors.join('\n'));
      assert.ok(errors.some((l) => /w:wrongworld:test\.os.*imports kinode:process\/standard@0\.8\.0 but the package declares wit_version 1/.test(l)), errors.join('\n'));
      assert.ok(errors.some((l) => /cannot install .*broken: .*manifest\.json: not valid JSON/.test(l)), errors.join('\n'));
      assert.ok(errors.some((l) => /cannot install .*does-not-exist: .*no such file or folder/.test(l)), errors.join('\n'));
      assert.equal(await cmd(node, 'fake.dev@g:good:test.os', { op: 'print', text: 'fine' }), null);
    } finally {
      await node.stop();
    }
  });

  it('installs from a pkg/ folder and from a kit zip named <package>:<publisher>.zip', async () => {
    const dir = await makePackage({ packageName: 'zipped', publisher: 'test.os', processes: [{ name: 'z', wasm: 'probe-v0' }] });
    const zip = join(tempDir('kh-zip-'), 'zipped:test.os.zip');
    execFileSync('python3', ['-c', `import shutil,sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])`, zip, join(dir, 'pkg')]);
    const viaPkg = await makePackage({ packageName: 'viapkg', publisher: 'test.os', processes: [{ name: 'v', wasm: 'probe-v1' }] });
    const node = await bootNode({ packages: [zip, join(viaPkg, 'pkg')] });
    try {
      await node.waitForPrint(/zipped:test\.os: probe ready fake\.dev@z:zipped:test\.os/);
      await node.waitForPrint(/viapkg:test\.os: probe ready fake\.dev@v:viapkg:test\.os/);
    } finally {
      await node.stop();
    }
  });
});
