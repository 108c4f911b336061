// Bounded mailboxes (issue 11.3): a process that never reads holds at most a bounded number of
// messages (and bytes) delivered to it; past that the kernel refuses messages, never silently:
// a process's request that expects a response fails at once with a timeout send-error, an HTTP
// request through http-server gets 503, and the kernel prints that the mailbox is full.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage } from './helpers.js';

after(() => cleanupTempDirs());

const HS = { 0: 'http_server:distro:sys', 1: 'http-server:distro:sys' } as const;
const MiB = 2 ** 20;

function post(port: number, path: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const settle = async (): Promise<number> => {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  return process.memoryUsage().rss;
};

describe('bounded mailboxes', () => {
  for (const gen of [0, 1] as const) {
    it(`200,000 × 1 KiB to a process that never reads: node memory stays bounded, senders see the refusal (process-v${gen})`, async (t) => {
      const pkg = `mbox${gen}`;
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          // `demo` binds `/` through http-server, then takes commands; `spin` makes it stop reading
          { name: 'demo', wasm: `probe-v${gen}`, requestCapabilities: [HS[gen]], grantCapabilities: [HS[gen]] },
          { name: 'sender', wasm: `probe-v${gen}` },
        ],
      });
      const node = await bootNode({ packages: [dir], verbosity: 0 });
      try {
        const stuck = `fake.dev@demo:${pkg}:test.os`;
        const sender = `fake.dev@sender:${pkg}:test.os`;
        const bound = await node.waitForPrint(new RegExp(`${pkg}:test\\.os: bind (reply|failed)`), 60000);
        assert.match(bound, /bind reply: \{"Ok":null\}/);
        await node.waitForPrint(new RegExp(`probe ready ${sender.replace(/\./g, '\\.')}`), 60000);
        assert.equal(await get(node.port, `/demo:${pkg}:test.os`), 200);
        await cmd(node, sender, { op: 'saveCaps', caps: [{ issuer: stuck, params: '"messaging"' }] });
        await node.driver().request(stuck, { op: 'spin' });

        const rss0 = await settle();
        const kib = new Uint8Array(1024).fill(0x6b);
        for (let sent = 0; sent < 200_000; ) {
          for (const end = sent + 5000; sent < end; sent++) void node.driver().request(stuck, kib);
          await new Promise((r) => setImmediate(r)); // let the deliveries go out, as they would
        }
        const rss1 = await settle();
        t.diagnostic(`node RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB after the flood`);
        // unbounded, this held ~+260 MB; the default bound is 10,000 messages / 64 MiB
        assert.ok(rss1 - rss0 < 96 * MiB, `node RSS grew by ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
        await node.waitForPrint(new RegExp(`kernel: mailbox of demo:${pkg}:test\\.os is full \\(10000 messages`), 10000);

        // a process's request that expects a response: a timeout send-error at once (not after 100 s)
        await cmd(node, sender, { op: 'send', target: stuck, body: 'hello?', expects: 100, context: 'refused' });
        const inbox = await inboxUntil(node, sender, (all) => all.some((e) => e.context === 'refused'), 30000);
        const refused = inbox.find((e) => e.context === 'refused')!;
        assert.equal(refused.kind, 'error');
        assert.equal(refused.errorKind, 'timeout');
        assert.equal(refused.target, stuck);

        // an HTTP request for the stuck process: 503 at once, the node keeps serving
        assert.equal(await get(node.port, `/demo:${pkg}:test.os`), 503);
        assert.equal(await cmd(node, sender, { op: 'print', text: 'still fine' }), null);
      } finally {
        await node.stop();
      }
    });
  }

  it("upload bodies http-server already budgeted are bounded by count, not refused again by the mailbox's bytes", async () => {
    const dir = await makePackage({
      packageName: 'big',
      publisher: 'test.os',
      witVersion: 1,
      processes: [
        { name: 'demo', wasm: 'probe-v1', requestCapabilities: [HS[1]], grantCapabilities: [HS[1]] },
        { name: 'sender', wasm: 'probe-v1' },
      ],
    });
    // 64 MiB of mailbox bytes, a 128 MiB body budget (the defaults): two 40 MiB uploads are both
    // admitted; a process that has not yet taken the first used to refuse the second with a 503,
    // so concurrent uploads to a busy process failed or not by thread timing
    const node = await bootNode({ packages: [dir], verbosity: 0, httpTimeoutMs: 3000 });
    try {
      const stuck = 'fake.dev@demo:big:test.os';
      const sender = 'fake.dev@sender:big:test.os';
      assert.match(await node.waitForPrint(/big:test\.os: bind (reply|failed)/, 60000), /bind reply: \{"Ok":null\}/);
      await node.waitForPrint(/probe ready fake\.dev@sender:big:test\.os/, 60000);
      await cmd(node, sender, { op: 'saveCaps', caps: [{ issuer: stuck, params: '"messaging"' }] });
      await node.driver().request(stuck, { op: 'spin' }); // it stops reading: both bodies stay in its mailbox
      const body = new Uint8Array(40 * MiB).fill(0x75);
      // never answered: each gets the request timeout, neither a 503
      assert.deepEqual(await Promise.all([post(node.port, '/demo:big:test.os', body), post(node.port, '/demo:big:test.os', body)]), [408, 408]);
      // the 80 MiB they hold still count for every other sender: a process's request is refused
      await cmd(node, sender, { op: 'send', target: stuck, body: 'hello?', expects: 100, context: 'refused' });
      const inbox = await inboxUntil(node, sender, (all) => all.some((e) => e.context === 'refused'), 30000);
      assert.equal(inbox.find((e) => e.context === 'refused')!.errorKind, 'timeout');
    } finally {
      await node.stop();
    }
  });

  it('a mailbox that drains takes messages again', async () => {
    const dir = await makePackage({
      packageName: 'drain',
      publisher: 'test.os',
      witVersion: 1,
      processes: [{ name: 'p', wasm: 'probe-v1' }],
    });
    const node = await bootNode({ packages: [dir], verbosity: 1, mailbox: { maxMessages: 50, maxBytes: 64 * MiB } });
    try {
      const p = 'fake.dev@p:drain:test.os';
      await node.waitForPrint(/probe ready fake\.dev@p:drain:test\.os/, 60000);
      // delivered in one turn: the probe cannot have taken any, so 50 fit and 50 are refused
      for (let i = 0; i < 100; i++) void node.driver().request(p, `m${i}`);
      await node.waitForPrint(/kernel: mailbox of p:drain:test\.os is full \(50 messages/, 10000);
      // the probe prints each message it takes (verbosity 1); once it took the 50th, it has room
      await node.waitForPrint(/drain:test\.os: inbox \{"kind":"request".*"body":"m49"/, 60000);
      const kept = await inboxUntil(node, p, (all) => all.length >= 50, 60000);
      assert.deepEqual(
        kept.map((e) => e.body),
        Array.from({ length: 50 }, (_, i) => `m${i}`),
      );
      // it drained: the next message is taken, and the kernel says how many were refused
      assert.equal(await cmd(node, p, { op: 'print', text: 'after' }), null);
      await node.waitForPrint(/kernel: mailbox of p:drain:test\.os takes messages again \(50 refused while it was full\)/, 10000);
    } finally {
      await node.stop();
    }
  });
});
