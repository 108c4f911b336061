// `state:distro:sys` as processes and clients see it (kinode-modules.md §4), both eras: actions,
// replies and error variants, one storage with the get/set-state imports, the capability gate,
// a big SetState that does not hold up other work (issue 11.6), and state across a restart.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { b64, bootNode, cleanupTempDirs, cmd, makePackage, tempDir, unb64 } from './helpers.js';

after(() => cleanupTempDirs());

const STATE = 'our@state:distro:sys';
type Awaited_ = { ok?: { source: string; body: string; blob: { mime: string | null; b64: string } | null }; err?: { errorKind: string; target: string } };

for (const gen of [0, 1] as const) {
  describe(`state:distro:sys, process-v${gen}`, () => {
    it('GetState/SetState/DeleteState/Backup and every error variant; storage shared with the imports; only cap holders get in', async () => {
      const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';
      const pkg = `st${gen}:test.os`;
      const dir = await makePackage({
        packageName: `st${gen}`,
        publisher: 'test.os',
        processes: [
          { name: 'user', wasm, requestCapabilities: ['state:distro:sys'] },
          { name: 'outsider', wasm },
        ],
      });
      const home = tempDir('kh-state-');
      const node = await bootNode({ home, packages: [dir] });
      try {
        const USER = `fake.dev@user:${pkg}`;
        const OUTSIDER = `fake.dev@outsider:${pkg}`;
        await node.waitForPrint(new RegExp(`probe ready ${USER}`));
        await node.waitForPrint(new RegExp(`probe ready ${OUTSIDER}`));
        const call = (body: unknown, blob?: string) =>
          cmd<Awaited_>(node, USER, { op: 'await', target: STATE, body, expects: 10, ...(blob !== undefined ? { blob: { text: blob } } : {}) });

        // SetState through the module, read back through the import
        const set = await call({ SetState: `user:${pkg}` }, 'from the module');
        assert.equal(set.ok?.source, 'fake.dev@state:distro:sys');
        assert.equal(set.ok?.body, '"SetState"');
        assert.equal((await cmd<{ text: string }>(node, USER, { op: 'getState' })).text, 'from the module');
        // set through the import, read through the module (blob, octet-stream)
        await cmd(node, USER, { op: 'setState', b64: b64('from the import') });
        const got = await call({ GetState: `user:${pkg}` });
        assert.equal(got.ok?.body, '"GetState"');
        assert.equal(unb64(got.ok!.blob!.b64), 'from the import');
        assert.equal(got.ok!.blob!.mime, 'application/octet-stream');
        // the body's process id is trusted (as in the runtime): user may write outsider's state
        await call({ SetState: `outsider:${pkg}` }, 'written by user');
        assert.equal((await cmd<{ text: string }>(node, OUTSIDER, { op: 'getState' })).text, 'written by user');
        // DeleteState, then NotFound
        assert.equal((await call({ DeleteState: `user:${pkg}` })).ok?.body, '"DeleteState"');
        assert.equal(await cmd(node, USER, { op: 'getState' }), null);
        assert.equal((await call({ GetState: `user:${pkg}` })).ok?.body, `{"Err":{"NotFound":{"process_id":"user:${pkg}"}}}`);
        // errors
        assert.equal((await call({ SetState: `user:${pkg}` })).ok?.body, '{"Err":{"BadBytes":{"action":"SetState"}}}');
        for (const bad of ['not json', { Nonsense: 1 }, { GetState: 'only:two' }, { GetState: 5 }]) {
          const r = await call(bad);
          assert.match(r.ok!.body, /^\{"Err":\{"BadJson":\{"error":"parse into StateAction failed: /, JSON.stringify(bad));
        }
        // Backup: a copy of every state under <home>/state-backup
        assert.equal((await call('"Backup"')).ok?.body, '"Backup"');
        assert.ok(existsSync(join(home, 'state-backup', `${encodeURIComponent(`outsider:${pkg}`)}.bin`)));
        // no capability, no entry: immediate timeout with the node's name, and the runtime's print
        const denied = await cmd<Awaited_>(node, OUTSIDER, { op: 'await', target: STATE, body: { GetState: `user:${pkg}` }, expects: 100000 });
        assert.deepEqual(denied.err && [denied.err.errorKind, denied.err.target], ['timeout', 'fake.dev@state:distro:sys']);
        await node.waitForPrint(new RegExp(`event loop: process outsider:${pkg} doesn't have capability to message process state:distro:sys`));
      } finally {
        await node.stop();
      }
    });
  });
}

describe('state storage', () => {
  it('a 64 MiB SetState does not stop the node answering other work meanwhile; writes of one state land in order and survive a restart', async () => {
    const dir = await makePackage({ packageName: 'stbig', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }] });
    const home = tempDir('kh-state-big-');
    let node = await bootNode({ home, packages: [dir] });
    const P = 'fake.dev@p:stbig:test.os';
    const big = new Uint8Array(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    try {
      await node.waitForPrint(new RegExp(`probe ready ${P}`));
      await cmd(node, P, { op: 'print', text: 'warm' });
      const order: string[] = [];
      const write = node
        .driver()
        .request(STATE, { SetState: 'p:stbig:test.os' }, { expects: 120, blob: { bytes: big } })
        .then((r) => {
          order.push('set-state');
          return r;
        });
      // sent after the write began: answered while the write is still going
      const ping = cmd(node, P, { op: 'print', text: 'answered during the write' }).then(() => order.push('ping'));
      const [w] = await Promise.all([write, ping]);
      assert.equal(w.text, '"SetState"');
      assert.deepEqual(order, ['ping', 'set-state']);
      const back = await node.driver().request(STATE, { GetState: 'p:stbig:test.os' }, { expects: 120 });
      assert.equal(digest(back.blob!.bytes), digest(big));
      // two writers of one state: the import's set-state, asked for while the module's big
      // SetState is being written, lands after it
      const first = node.driver().request(STATE, { SetState: 'p:stbig:test.os' }, { expects: 120, blob: { bytes: big } });
      await cmd(node, P, { op: 'setState', text: 'small and last' });
      assert.equal((await first).text, '"SetState"');
      assert.equal((await cmd<{ text: string }>(node, P, { op: 'getState' })).text, 'small and last');
    } finally {
      await node.stop();
    }
    // the process has on-exit None (it does not come back); its state does
    node = await bootNode({ home });
    try {
      const back = await node.driver().request(STATE, { GetState: 'p:stbig:test.os' }, { expects: 120 });
      assert.equal(back.text, '"GetState"');
      assert.equal(new TextDecoder().decode(back.blob!.bytes), 'small and last');
    } finally {
      await node.stop();
    }
  });
});
