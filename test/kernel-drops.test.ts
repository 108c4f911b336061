// The kernel's drop paths as a process and the terminal see them (issue 14, issue 11.1, issue
// 8.5): forged capabilities are refused by save-capabilities, every dropped request that expects
// a response fails at once with the target as the kernel rewrote it, and each drop prints the
// runtime's kind of line.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage } from './helpers.js';

type Caps = Array<{ issuer: string; params: string }>;

for (const gen of [0, 1] as const) {
  describe(`kernel drop paths and capability forgery, process-v${gen}`, () => {
    let node: KinodeNode;
    const pkg = `kd${gen}:test.os`;
    const GIVER = `fake.dev@giver:${pkg}`;
    const TAKER = `fake.dev@taker:${pkg}`;
    const PRIVATE = `fake.dev@private:${pkg}`;
    const FORGER = `fake.dev@forger:${pkg}`;
    const HTTP_CLIENT = gen === 0 ? 'http_client:distro:sys' : 'http-client:distro:sys';
    const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';
    const ready = (a: string) => node.waitForPrint(new RegExp(`probe ready ${a}`));

    before(async () => {
      const dir = await makePackage({
        packageName: `kd${gen}`,
        publisher: 'test.os',
        processes: [
          // giver may message taker and private; it holds private's messaging cap
          { name: 'giver', wasm, requestCapabilities: [`taker:${pkg}`, `private:${pkg}`] },
          { name: 'taker', wasm, requestCapabilities: [`giver:${pkg}`] },
          // private grants nothing to anyone; it answers only those it holds a cap to (giver)
          { name: 'private', wasm, requestCapabilities: [`giver:${pkg}`, `forger:${pkg}`] },
          // forger holds nothing but itself; everyone may message it
          { name: 'forger', wasm, public: true, grantCapabilities: [HTTP_CLIENT] },
        ],
      });
      node = await bootNode({ packages: [dir] });
      for (const a of [GIVER, TAKER, PRIVATE, FORGER]) await ready(a);
    });
    after(async () => {
      await node.stop();
      cleanupTempDirs();
    });

    it('a forged messaging capability to a private process is refused and the private process stays unreachable', async () => {
      const forged = { issuer: PRIVATE, params: '"messaging"' };
      await cmd(node, FORGER, { op: 'saveCaps', caps: [forged] });
      await node.waitForPrint(new RegExp(`kernel: process forger:${pkg} may not save capabilities it was never given; refused: ${PRIVATE} "messaging"`));
      const held = await cmd<Caps>(node, FORGER, { op: 'ourCaps' });
      assert.ok(!held.some((c) => c.issuer === PRIVATE), JSON.stringify(held));
      const r = await cmd<{ err?: { errorKind: string; target: string } }>(node, FORGER, {
        op: 'await',
        target: PRIVATE,
        body: { op: 'print', text: 'forged hello' },
        expects: 100000,
      });
      assert.deepEqual(r.err && [r.err.errorKind, r.err.target], ['timeout', PRIVATE]);
      await node.waitForPrint(new RegExp(`event loop: process forger:${pkg} doesn't have capability to message process private:${pkg}`));
      assert.ok(!node.prints.some((l) => l.includes('forged hello')));
    });

    it('a forged messaging capability to http-client is refused: no outbound HTTP for a process without it', async () => {
      const forged = { issuer: `fake.dev@${HTTP_CLIENT}`, params: '"messaging"' };
      await cmd(node, FORGER, { op: 'saveCaps', caps: [forged] });
      const held = await cmd<Caps>(node, FORGER, { op: 'ourCaps' });
      assert.ok(!held.some((c) => c.issuer === forged.issuer), JSON.stringify(held));
      const body = { Http: { method: 'GET', version: null, url: 'http://127.0.0.1:9/', headers: {} } };
      const r = await cmd<{ err?: { errorKind: string; target: string } }>(node, FORGER, { op: 'await', target: `our@${HTTP_CLIENT}`, body, expects: 100000 });
      assert.deepEqual(r.err && [r.err.errorKind, r.err.target], ['timeout', `fake.dev@${HTTP_CLIENT}`]);
      await node.waitForPrint(new RegExp(`event loop: process forger:${pkg} doesn't have capability to message process ${HTTP_CLIENT}`));
    });

    it('legitimate saves work: caps received on a message, caps held, caps issued by the process itself', async () => {
      // giver holds private's messaging cap and hands it to taker
      const cap = { issuer: PRIVATE, params: '"messaging"' };
      await cmd(node, GIVER, { op: 'send', target: TAKER, body: 'here is a cap', caps: [cap] });
      await inboxUntil(node, TAKER, (all) => all.some((e) => e.body === 'here is a cap' && e.caps.some((c) => c.issuer === PRIVATE)));
      const own = { issuer: TAKER, params: '{"kind":"self-issued"}' };
      const already = { issuer: GIVER, params: '"messaging"' };
      await cmd(node, TAKER, { op: 'saveCaps', caps: [cap, own, already] });
      const held = await cmd<Caps>(node, TAKER, { op: 'ourCaps' });
      for (const c of [cap, own, already]) assert.ok(held.some((h) => h.issuer === c.issuer && h.params === c.params), JSON.stringify(held));
      // the saved cap works: taker may now message private
      await cmd(node, TAKER, { op: 'send', target: PRIVATE, body: 'allowed now' });
      await inboxUntil(node, PRIVATE, (all) => all.some((e) => e.body === 'allowed now' && e.source === TAKER));
      // a cap seen by taker does not help forger
      await cmd(node, FORGER, { op: 'saveCaps', caps: [cap] });
      assert.ok(!(await cmd<Caps>(node, FORGER, { op: 'ourCaps' })).some((c) => c.issuer === PRIVATE));
    });

    it('a request to `our@<missing>` fails at once with the node name in the target; fire-and-forget is dropped silently', async () => {
      const r = await cmd<{ err: { errorKind: string; target: string; errorMessageBody: string } }>(node, GIVER, {
        op: 'await',
        target: `our@missing:${pkg}`,
        body: 'anyone?',
        expects: 100000,
      });
      assert.deepEqual([r.err.errorKind, r.err.target, r.err.errorMessageBody], ['timeout', `fake.dev@missing:${pkg}`, 'anyone?']);
      await cmd(node, GIVER, { op: 'send', target: `our@missing:${pkg}`, body: 'no reply wanted' });
      assert.deepEqual(await cmd(node, GIVER, { op: 'inbox' }), []);
    });

    it('a process without the network capability is told so at verbosity 0', async () => {
      const r = await cmd<{ err: { errorKind: string; target: string } }>(node, FORGER, { op: 'await', target: `far.dev@x:${pkg}`, body: 'x', expects: 100000 });
      assert.deepEqual([r.err.errorKind, r.err.target], ['timeout', `far.dev@x:${pkg}`]);
      await node.waitForPrint(new RegExp(`event loop: process forger:${pkg} doesn't have capability to send networked messages`));
    });

    it('a message to a system module the node does not provide is named once at verbosity 0', async () => {
      const target = 'eth:distro:sys';
      const line = new RegExp(`kernel: ${target} is a Kinode system process that kinode-host does not provide`);
      const before = node.printCount;
      for (let i = 0; i < 3; i++) {
        const r = await cmd<{ err: { errorKind: string; target: string } }>(node, GIVER, { op: 'await', target: `our@${target}`, body: '"GetChainId"', expects: 100000 });
        assert.deepEqual([r.err.errorKind, r.err.target], ['timeout', `fake.dev@${target}`]);
      }
      await node.waitForPrint(line, 5000, before);
      await cmd(node, GIVER, { op: 'print', text: 'eth marker' });
      await node.waitForPrint(/eth marker/, 5000, before);
      assert.equal(node.prints.filter((l) => line.test(l)).length, 1, node.prints.join('\n'));
      // the other era's spelling of a module is not a system name of this era: no such line
      const otherEra = gen === 0 ? 'fd-manager:distro:sys' : 'fd_manager:distro:sys';
      await cmd(node, GIVER, { op: 'await', target: `our@${otherEra}`, body: 'x', expects: 100000 });
      await cmd(node, GIVER, { op: 'print', text: 'fd marker' });
      await node.waitForPrint(/fd marker/, 5000, before);
      assert.ok(!node.prints.some((l) => l.includes(`kernel: ${otherEra} is`)), node.prints.join('\n'));
    });
  });
}
