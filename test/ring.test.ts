// The shared-memory ring between the kernel and a process worker (host/process/ring.ts): every
// item arrives once and in order, whether it went through the ring or, when the ring could not
// take it (too big, full, an object), through the port beside it. Checked across a real worker
// thread with a tiny ring (so wrapping and overflow happen all the time), and end to end through
// a node: messages with big (past the ring) and small blobs, from a process and from the in-host driver, reach a
// probe in the order they were sent, both generations.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { newRing, RingReceiver, RingSender } from '../host/process/ring.js';
import { bootNode, cleanupTempDirs, cmd, makePackage, unb64, type InboxEntry } from './helpers.js';

after(() => cleanupTempDirs());

const RING_URL = new URL('../host/process/ring.js', import.meta.url).href;

// The receiving worker: takes items until it has `n` (polling, parking 1 ms between looks),
// reporting after each wave what it took: [length, first byte] for bytes, the object otherwise.
const RECEIVER = `
import { parentPort, workerData } from 'node:worker_threads';
const { RingReceiver } = await import(workerData.ringUrl);
const rx = new RingReceiver(workerData.sab, workerData.port);
const nap = new Int32Array(new SharedArrayBuffer(4));
parentPort.on('message', (want) => {
  const got = [];
  const deadline = Date.now() + 20000;
  while (got.length < want && Date.now() < deadline) {
    const m = rx.next();
    if (m === undefined) { Atomics.wait(nap, 0, 0, 1); continue; }
    got.push(m instanceof Uint8Array ? [m.length, m[0] ?? -1] : m);
  }
  parentPort.postMessage(got);
});
`;

describe('shared-memory ring', () => {
  it('a worker takes every item once and in order, through a 1 KiB ring that wraps and overflows to its port', async () => {
    const sab = newRing(1024);
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(RECEIVER, { eval: true, workerData: { sab, port: port2, ringUrl: RING_URL }, transferList: [port2] });
    try {
      const tx = new RingSender(sab, port1);
      // deterministic sizes: mostly small, some that fill the ring, some larger than it
      let x = 7;
      const rnd = (n: number): number => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
      for (let wave = 0; wave < 20; wave++) {
        const expected: unknown[] = [];
        for (let i = 0; i < 60; i++) {
          const kind = rnd(10);
          if (kind === 0) {
            const o = { t: 'print', text: `wave ${wave} item ${i}` };
            tx.sendObject(o);
            expected.push(o);
            continue;
          }
          const len = kind === 1 ? 1024 + rnd(3000) : kind === 2 ? 300 + rnd(600) : rnd(120);
          const b = new Uint8Array(len).fill((wave * 60 + i) % 251);
          tx.sendBytes(b);
          b.fill(0); // the ring copied it: the sender may reuse its buffer at once
          expected.push([len, len === 0 ? -1 : (wave * 60 + i) % 251]);
        }
        w.postMessage(expected.length);
        const [got] = (await once(w, 'message')) as [unknown[]];
        assert.deepEqual(got, expected, `wave ${wave}`);
      }
    } finally {
      await w.terminate();
      port1.close();
    }
  });

  it('an item arriving later on the port is not taken before the ring items written ahead of it', () => {
    // both ends in one thread: the order is decided by sequence alone, not by timing
    const sab = newRing(64);
    const { port1, port2 } = new MessageChannel();
    try {
      const tx = new RingSender(sab, port1);
      const rx = new RingReceiver(sab, port2);
      tx.sendBytes(new Uint8Array(40).fill(1)); // ring
      tx.sendBytes(new Uint8Array(40).fill(2)); // ring full: port
      tx.sendObject({ n: 3 }); // port
      const first = rx.next() as Uint8Array;
      assert.equal(first[0], 1);
      tx.sendBytes(new Uint8Array(8).fill(4)); // room again: ring, behind the two on the port
      const rest = [rx.next(), rx.next(), rx.next()];
      assert.deepEqual(
        rest.map((m) => (m instanceof Uint8Array ? m[0] : m)),
        [2, { n: 3 }, 4],
      );
      assert.equal(rx.next(), undefined);
      assert.equal(rx.pending(), false);
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('the writer gets the room back: once the reader took all there was, a full ring takes items again', () => {
    // the reader frees what it read in steps (an eighth of the ring, or when it finds no more):
    // a writer that never saw the room would send everything after the first fill by the port
    const sab = newRing(1024);
    const { port1, port2 } = new MessageChannel();
    try {
      const tx = new RingSender(sab, port1);
      const rx = new RingReceiver(sab, port2);
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 64; i++) tx.sendBytes(new Uint8Array([round, i, 0, 0, 0, 0, 0, 0])); // 16 bytes each: the ring, exactly full
        assert.equal(receiveMessageOnPort(port2), undefined, `round ${round}: an item went to the port`);
        for (let i = 0; i < 64; i++) assert.deepEqual([...(rx.next() as Uint8Array).subarray(0, 2)], [round, i]);
        assert.equal(rx.next(), undefined);
      }
    } finally {
      port1.close();
      port2.close();
    }
  });

  for (const gen of [0, 1] as const) {
    it(`big and small blobs keep their order from a process and from the driver to a probe (process-v${gen})`, async () => {
      const pkg = `ring${gen}`;
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'sender', wasm: `probe-v${gen}` },
          { name: 'sink', wasm: `probe-v${gen}`, public: true },
        ],
      });
      const node = await bootNode({ packages: [dir], verbosity: 0 });
      try {
        const sender = `fake.dev@sender:${pkg}:test.os`;
        const sink = `fake.dev@sink:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`probe ready ${sink.replace(/\./g, '\\.')}`), 60000);
        await node.waitForPrint(new RegExp(`probe ready ${sender.replace(/\./g, '\\.')}`), 60000);
        // a big blob (past the 32 KiB ring) every third message
        const size = (i: number): number => (i % 3 === 1 ? 40_000 + i : 10 + i);
        const blob = (i: number): string => String.fromCharCode(97 + (i % 26)).repeat(size(i));
        // from the sender: one send per command (each its own write into the sender's out-ring)
        for (let i = 0; i < 12; i++) {
          await cmd(node, sender, { op: 'send', target: sink, body: `p${i}`, blob: { text: blob(i) } }, 120);
        }
        // from the driver: all in one turn, then one batch per turn of the kernel
        for (let i = 0; i < 12; i++) {
          void node.driver().request(sink, `d${i}`, { blob: { bytes: blob(i) } });
          if (i % 4 === 3) await new Promise((r) => setImmediate(r));
        }
        // the probe's inbox (every blob in base64) may take a while on a loaded machine: roomy expects
        const entries: InboxEntry[] = [];
        for (let tries = 0; entries.filter((e) => /^"?[pd]\d/.test(e.body)).length < 24; tries++) {
          if (tries > 100) throw new Error(`inbox incomplete: ${entries.map((e) => e.body).join(' ')}`);
          entries.push(...(await cmd<InboxEntry[]>(node, sink, { op: 'inbox' }, 120)));
          await new Promise((r) => setTimeout(r, 100));
        }
        const got = entries.filter((e) => /^"?[pd]\d/.test(e.body));
        const want = [...Array.from({ length: 12 }, (_, i) => `p${i}`), ...Array.from({ length: 12 }, (_, i) => `d${i}`)];
        assert.deepEqual(
          got.map((e) => e.body.replace(/"/g, '')),
          want,
        );
        for (const e of got) {
          const i = Number(e.body.replace(/"/g, '').slice(1));
          const text = unb64(e.blob!.b64);
          assert.equal(text.length, size(i), `${e.body} blob size`);
          assert.equal(text, blob(i), `${e.body} blob bytes`);
        }
      } finally {
        await node.stop();
      }
    });
  }
});
