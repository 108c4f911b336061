// WebSocket frames through a process in bursts and in sizes, as a client sees them (issue 12,
// docs/performance.md §23): the kernel thread hands a turn's frames to the process as one
// delivery batch and sends the process's pushes back as they are drained, so a burst from several
// clients must come back complete, in order per connection, with each frame's type and bytes;
// a frame big enough to be handed over to the worker (transferred, not copied) must arrive
// intact; a Text push of bytes that are not UTF-8 reaches the client as their lossy text.
// Both generations: the Rust echo (components/rust, `serve-http`) and the probe.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage } from './helpers.js';

const HS = ['http_server:distro:sys', 'http-server:distro:sys'] as const;
const rustEcho = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/rust-echo-v${gen}.wasm`, import.meta.url));
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Frame {
  binary: boolean;
  data: Buffer;
}

/** A connected client that collects every frame it receives. */
async function client(url: string): Promise<{ ws: WebSocket; got: Frame[]; closed: () => boolean }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 8 * 1024 * 1024 });
  const got: Frame[] = [];
  let closed = false;
  ws.on('message', (d, isBinary) => got.push({ binary: isBinary, data: d as Buffer }));
  ws.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected-response ${res.statusCode}`)));
  });
  return { ws, got, closed: () => closed };
}

/** Waits (bounded) until every client has `n` frames, or one of them closed. */
async function collected(clients: Array<{ got: Frame[]; closed: () => boolean }>, n: number, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (clients.some((c) => c.got.length < n)) {
    const shut = clients.findIndex((c) => c.closed());
    if (shut >= 0) throw new Error(`client ${shut} closed after ${clients[shut]!.got.length} of ${n} frames`);
    if (Date.now() > deadline) throw new Error(`frames so far: ${clients.map((c) => c.got.length).join(', ')} of ${n} each`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The i-th frame client c sends: Text (with non-ASCII) and Binary alternating, sizes varying. */
function frameOf(c: number, i: number): Frame {
  if (i % 2 === 0) return { binary: false, data: Buffer.from(`c${c} #${i} é ✓ ${'x'.repeat((i * 7) % 300)}`) };
  const data = Buffer.alloc(1 + ((i * 13) % 2000));
  for (let k = 0; k < data.length; k++) data[k] = (c * 31 + i * 7 + k) & 0xff;
  return { binary: true, data };
}

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  const wasm = rustEcho(gen);
  describe(`WebSocket frames through a process, process-v${gen}`, { skip: existsSync(wasm) ? false : `${wasm} not built (no Rust web toolchain)` }, () => {
    const pkg = `wsframes${gen}`;
    const web = `fake.dev@web:${pkg}:test.os`;
    const probe = `fake.dev@probe:${pkg}:test.os`;
    let node: KinodeNode;
    const url = (path: string) => `ws://127.0.0.1:${node.port}/${path}`;

    before(async () => {
      const caps = { requestCapabilities: [HS[gen]], grantCapabilities: [HS[gen]] };
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'web', wasm, ...caps },
          { name: 'probe', wasm: `probe-v${gen}`, ...caps },
        ],
      });
      node = await bootNode({ packages: [dir], maxWsFrameBytes: 8 * 1024 * 1024 });
      await node.waitForPrint(new RegExp(`rust echo ready ${esc(web)}$`), 60000);
      await node.waitForPrint(new RegExp(`probe ready ${esc(probe)}`), 60000);
      await node.driver().request(web, 'serve-http');
      const bound = /rust echo bind reply: \{"Ok":null\}/;
      await node.waitForPrint(bound);
      await node.waitForPrint(bound, 5000, node.prints.findIndex((l) => bound.test(l)) + 1);
    });
    after(async () => {
      await node?.stop();
    });

    it('500 frames from 5 clients in one burst: every frame echoed, in order per connection, Text and Binary', async () => {
      const clients = await Promise.all(Array.from({ length: 5 }, () => client(url(`web:${pkg}:test.os/ws`))));
      const PER = 100;
      // all of them at once, without waiting for any echo: one kernel turn reads many of them
      for (let i = 0; i < PER; i++) {
        for (const [c, cl] of clients.entries()) {
          const f = frameOf(c, i);
          cl.ws.send(f.data, { binary: f.binary });
        }
      }
      await collected(clients, PER);
      for (const [c, cl] of clients.entries()) {
        assert.equal(cl.got.length, PER, `client ${c}: no frame more than sent`);
        for (let i = 0; i < PER; i++) {
          const want = frameOf(c, i);
          const got = cl.got[i]!;
          assert.equal(got.binary, want.binary, `client ${c} frame ${i}: type`);
          assert.ok(got.data.equals(want.data), `client ${c} frame ${i}: bytes`);
        }
        cl.ws.close();
      }
    });

    it('frames up to 1 MiB (the big ones handed over to the worker, not copied) arrive intact', async () => {
      const c = await client(url(`web:${pkg}:test.os/ws`));
      const sizes = [32 * 1024 - 1, 32 * 1024, 64 * 1024 + 1, 300_000, 1024 * 1024];
      const sent: Frame[] = [];
      for (const [k, n] of sizes.entries()) {
        const data = Buffer.alloc(n);
        for (let i = 0; i < n; i++) data[i] = (i * 31 + k) & 0xff;
        sent.push({ binary: true, data });
        // and a Text frame of the same size, multi-byte characters included
        sent.push({ binary: false, data: Buffer.from('é'.repeat(Math.floor(n / 2)) + 'z'.repeat(n % 2)) });
      }
      for (const f of sent) c.ws.send(f.data, { binary: f.binary });
      await collected([c], sent.length);
      for (const [i, f] of sent.entries()) {
        assert.equal(c.got[i]!.binary, f.binary, `frame ${i}: type`);
        assert.equal(c.got[i]!.data.length, f.data.length, `frame ${i}: length`);
        assert.ok(c.got[i]!.data.equals(f.data), `frame ${i}: bytes`);
      }
      c.ws.close();
    });

    it('a Text push of bytes that are not UTF-8 reaches the client as their lossy text; valid UTF-8 as it is', async () => {
      const bind = gen === 0
        ? { WebSocketBind: { path: '/t', authenticated: false, encrypted: false, extension: false } }
        : { WebSocketBind: { path: '/t', authenticated: false, extension: false } };
      const r = await cmd<{ ok?: { body: string } }>(node, probe, { op: 'await', target: `our@${HS[gen]}`, body: bind, expects: 5 }, 30);
      assert.equal(r.ok?.body, '{"Ok":null}');
      const c = await client(url(`probe:${pkg}:test.os/t`));
      const opened = await inboxUntil(node, probe, (all) => all.some((e) => e.body.includes('WebSocketOpen')));
      const channel = (JSON.parse(opened.find((e) => e.body.includes('WebSocketOpen'))!.body) as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      const push = (bytes: Buffer) =>
        cmd<{ ok?: { body: string } }>(node, probe, {
          op: 'await',
          target: `our@${HS[gen]}`,
          body: { WebSocketPush: { channel_id: channel, message_type: 'Text' } },
          expects: 5,
          blob: { b64: bytes.toString('base64') },
        }, 30);
      assert.equal((await push(Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82]))).ok?.body, '{"Ok":null}');
      assert.equal((await push(Buffer.from('ok ✓'))).ok?.body, '{"Ok":null}');
      await collected([c], 2);
      assert.deepEqual(c.got.map((f) => [f.binary, f.data.toString('utf8')]), [
        [false, 'a\ufffdb\ufffd'],
        [false, 'ok ✓'],
      ]);
      c.ws.close();
    });
  });
}
