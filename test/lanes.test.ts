// Lanes (host/process/lanes.ts, host/kernel/lane-broker.ts): two processes that message each
// other often get a path between their workers that skips the kernel thread. What a process sees
// must not change: order per sender, contexts, timeouts, capability checks, restarts of the
// other end, an observer that sees every message, a bounded mailbox. Each case first makes the
// pair talk past the kernel's threshold, and checks that a lane is open, so it proves something
// about lanes and not only about the kernel's own path.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KinodeNode } from '../host/node.js';
import { LANE_AFTER } from '../host/kernel/lane-broker.js';
import { bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage, type InboxEntry } from './helpers.js';
import type { KernelMessage } from '../host/types.js';

after(() => cleanupTempDirs());

const bodies = (from: number, to: number, prefix = 'm'): Array<{ body: string }> =>
  Array.from({ length: to - from }, (_, i) => ({ body: `${prefix}${from + i}` }));

/** `from` sends `to` the requests in one send-requests call. */
async function sendMany(node: KinodeNode, from: string, to: string, requests: Array<Record<string, unknown>>): Promise<void> {
  await cmd(node, from, { op: 'sendMany', requests: requests.map((r) => ({ target: to, ...r })) });
}

/** A node with probes a (may message b) and b of package `name`, a lane from a to b open. */
async function pairWithLane(name: string, opts: Parameters<typeof bootNode>[0] = {}): Promise<{ node: KinodeNode; A: string; B: string }> {
  const dir = await makePackage({
    packageName: name,
    publisher: 'test.os',
    processes: [
      { name: 'a', wasm: 'probe-v1', requestCapabilities: [`b:${name}:test.os`] },
      { name: 'b', wasm: 'probe-v1' },
    ],
  });
  const node = await bootNode({ packages: [dir], ...opts });
  const A = `fake.dev@a:${name}:test.os`;
  const B = `fake.dev@b:${name}:test.os`;
  await node.waitForPrint(new RegExp(`probe ready fake\\.dev@a:${name}:`));
  await node.waitForPrint(new RegExp(`probe ready fake\\.dev@b:${name}:`));
  await sendMany(node, A, B, bodies(0, LANE_AFTER + 8));
  // the offer reaches a with its next receive: these go over the lane
  await sendMany(node, A, B, bodies(LANE_AFTER + 8, 60));
  await inboxUntil(node, B, (all) => numbered(all).length >= 60);
  assert.ok(node.kernel.lanes.size >= 1, 'a lane is open');
  return { node, A, B };
}

const numbered = (all: InboxEntry[], prefix = 'm'): number[] =>
  all.filter((e) => e.kind === 'request' && e.body.startsWith(prefix)).map((e) => Number(e.body.slice(prefix.length)));

for (const gen of [0, 1] as const) {
  describe(`lanes, process-v${gen}`, () => {
    let node: KinodeNode;
    const pkg = `ln${gen}:test.os`;
    const A = `fake.dev@a:${pkg}`;
    const B = `fake.dev@b:${pkg}`;
    const wasm = `probe-v${gen}`;

    before(async () => {
      const dir = await makePackage({
        packageName: `ln${gen}`,
        publisher: 'test.os',
        processes: [
          { name: 'a', wasm, requestCapabilities: [`b:${pkg}`] },
          { name: 'b', wasm, requestCapabilities: [`a:${pkg}`], onExit: 'Restart' },
        ],
      });
      node = await bootNode({ packages: [dir] });
      await node.waitForPrint(new RegExp(`probe ready ${A}`));
      await node.waitForPrint(new RegExp(`probe ready ${B}`));
    });
    after(async () => {
      await node.stop();
    });

    it('messages keep their order over a lane, across its end and the kernel path after it', async () => {
      await sendMany(node, A, B, bodies(0, LANE_AFTER + 8));
      // the offer reaches a with its next receive: these go over the lane
      await sendMany(node, A, B, bodies(LANE_AFTER + 8, 80));
      assert.ok(node.kernel.lanes.size >= 1, 'a lane is open');
      // capabilities attached: the kernel must filter them, so the lane ends and this goes through it
      await sendMany(node, A, B, [
        { body: 'm80', caps: [{ issuer: B, params: '"messaging"' }] },
        ...bodies(81, 160),
      ]);
      const inbox = await inboxUntil(node, B, (all) => numbered(all).length >= 160);
      assert.deepEqual(numbered(inbox), Array.from({ length: 160 }, (_, i) => i));
      const withCap = inbox.find((e) => e.body === 'm80')!;
      assert.equal(withCap.source, A);
    });

    it('responses over a lane come back with their contexts; send-and-await is answered', async () => {
      const contexts = bodies(0, LANE_AFTER + 20, 'c').map((b) => ({ body: { op: 'print', text: `r ${b.body}`, verbosity: 2 }, expects: 10, context: b.body }));
      await sendMany(node, A, B, contexts);
      const inbox = await inboxUntil(node, A, (all) => all.filter((e) => e.kind === 'response').length >= contexts.length);
      assert.deepEqual(
        inbox.filter((e) => e.kind === 'response').map((e) => e.context),
        contexts.map((c) => c.context),
      );
      assert.ok(node.kernel.lanes.size >= 2, `lanes both ways (${node.kernel.lanes.size})`);
      for (let i = 0; i < 5; i++) {
        const r = await cmd<{ ok: { source: string; body: string } }>(node, A, { op: 'await', target: B, body: { op: 'our' }, expects: 5 });
        assert.equal(r.ok.source, B);
      }
    });

    it('a request over a lane that gets no answer times out with its message, blob and context', async () => {
      const open = node.kernel.lanes.size;
      assert.ok(open >= 1);
      // a non-command request is only logged by b, never answered
      await cmd(node, A, { op: 'send', target: B, body: 'silent', expects: 1, context: 'lane-timeout', blob: { mime: 'text/plain', text: 'kept' } });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'lane-timeout'), 10000);
      const err = inbox.find((e) => e.context === 'lane-timeout')!;
      assert.equal(err.kind, 'error');
      assert.equal(err.errorKind, 'timeout');
      assert.equal(err.target, B);
      assert.equal(err.errorMessageBody, 'silent');
      assert.equal(err.errorBlob?.mime, 'text/plain');
      assert.equal(Buffer.from(err.errorBlob!.b64, 'base64').toString(), 'kept');
      // the lane stayed open: the request went over it, and its timer ran in a's worker
      assert.equal(node.kernel.lanes.size, open);
      await inboxUntil(node, B, (all) => all.some((e) => e.body === 'silent'));
    });

    it('a blob too big for the ring goes beside it, byte-exact; a timed request keeps its own for the timeout', async () => {
      assert.ok(node.kernel.lanes.size >= 1);
      const big = Buffer.alloc(100 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
      const blob = { mime: 'application/octet-stream', b64: big.toString('base64') };
      await cmd(node, A, { op: 'send', target: B, body: 'big-untimed', blob });
      await cmd(node, A, { op: 'send', target: B, body: 'big-timed', expects: 1, context: 'big-timeout', blob });
      const got = await inboxUntil(node, B, (all) => all.some((e) => e.body === 'big-timed'));
      for (const body of ['big-untimed', 'big-timed']) assert.equal(got.find((e) => e.body === body)!.blob?.b64, blob.b64, body);
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'big-timeout'), 10000);
      const err = inbox.find((e) => e.context === 'big-timeout')!;
      assert.equal(err.errorKind, 'timeout');
      assert.equal(err.errorBlob?.b64, blob.b64);
    });

    it('an observer sees every message: lanes close while it listens', async () => {
      assert.ok(node.kernel.lanes.size >= 1);
      const seen: string[] = [];
      node.kernel.observer.setMessageTap((km: KernelMessage) => {
        if (km.message.tag === 'request') seen.push(new TextDecoder().decode(km.message.val.body));
      });
      try {
        await sendMany(node, A, B, bodies(0, 50, 't'));
        const inbox = await inboxUntil(node, B, (all) => numbered(all, 't').length >= 50);
        assert.deepEqual(numbered(inbox, 't'), Array.from({ length: 50 }, (_, i) => i));
        assert.deepEqual(
          seen.filter((s) => /^t\d+$/.test(s)),
          bodies(0, 50, 't').map((b) => b.body),
        );
      } finally {
        node.kernel.observer.setMessageTap(undefined);
      }
    });

    it("the reader restarted: the writer's next messages reach the new instance, in order", async () => {
      await sendMany(node, A, B, bodies(0, LANE_AFTER + 8, 'p'));
      await sendMany(node, A, B, bodies(LANE_AFTER + 8, 60, 'p'));
      await inboxUntil(node, B, (all) => numbered(all, 'p').length >= 60);
      assert.ok(node.kernel.lanes.size >= 1);
      const restarts = node.prints.filter((p) => p.includes(`probe ready ${B}`)).length;
      await node.driver().request(B, { op: 'trap', message: 'lane test' });
      await node.waitForPrint(new RegExp(`kernel: restarting process b:${pkg.replace('.', '\\.')}`), 10000);
      for (let i = 0; i < 200 && node.prints.filter((p) => p.includes(`probe ready ${B}`)).length === restarts; i++) await new Promise((r) => setTimeout(r, 50));
      await sendMany(node, A, B, bodies(0, 40, 'q'));
      const inbox = await inboxUntil(node, B, (all) => numbered(all, 'q').length >= 40);
      assert.deepEqual(numbered(inbox, 'q'), Array.from({ length: 40 }, (_, i) => i));
    });
  });
}

describe('lanes and capabilities', () => {
  it('a writer that drops its messaging capability can no longer send requests over its lane', async () => {
    const { node, A, B } = await pairWithLane('lncap');
    try {
      await cmd(node, A, { op: 'dropCaps', caps: [{ issuer: B, params: '"messaging"' }] });
      await cmd(node, A, { op: 'send', target: B, body: 'after the drop', expects: 100, context: 'no-cap' });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'no-cap'));
      // refused by the kernel at once: a timeout send-error long before 100 s
      assert.equal(inbox.find((e) => e.context === 'no-cap')!.errorKind, 'timeout');
      await node.waitForPrint(/process a:lncap:test\.os doesn't have capability to message process b:lncap:test\.os/);
      await cmd(node, A, { op: 'print', text: 'a is still fine' });
      assert.equal((await inboxUntil(node, B, () => true)).filter((e) => e.body === 'after the drop').length, 0);
    } finally {
      await node.stop();
    }
  });
});

describe('lanes and bounded mailboxes', () => {
  it('a reader that stops reading: its lane ends at its share of the bound, and the kernel refuses the rest', async () => {
    const { node, A, B } = await pairWithLane('lnbox', { verbosity: 0, mailbox: { maxMessages: 400, maxBytes: 2 ** 26 } });
    try {
      await node.driver().request(B, { op: 'spin' });
      // 600 requests that expect a response: 50 fit the lane (400 / 8), 400 the kernel's mailbox,
      // and the other 150 are refused at once with a timeout send-error
      await sendMany(node, A, B, bodies(0, 600, 'f').map((b) => ({ ...b, expects: 100, context: b.body })));
      await node.waitForPrint(/kernel: mailbox of b:lnbox:test\.os is full \(400 messages/, 10000);
      const inbox = await inboxUntil(node, A, (all) => all.filter((e) => e.kind === 'error').length >= 150, 20000);
      const refused = inbox.filter((e) => e.kind === 'error');
      assert.equal(refused.length, 150, JSON.stringify(refused.map((e) => e.context)));
      assert.deepEqual(
        refused.map((e) => e.context),
        bodies(450, 600, 'f').map((b) => b.body),
      );
    } finally {
      await node.stop();
    }
  });
});
