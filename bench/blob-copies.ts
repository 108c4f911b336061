// `node dist/bench/blob-copies.js [rounds]`: what each step a vfs blob takes costs on this
// machine, one thread at a time, in CPU µs per operation at 4 KiB and 1 MiB (medians of rounds,
// minimum beside; round trips also in wall time). For docs/performance.md "vfs blobs"; not part
// of `npm run bench`.
//
//   lift          the component's list<u8> copied out of its memory (jco: memory.buffer.slice)
//   lower         the bytes copied into the component's memory (get-blob's result)
//   send before   the message with its blob encoded into the codec's buffer and sent through a
//                 ring + port pair as before "vfs blobs" (ring copy in and out, or a copy for the
//                 port), then decoded: what each direction cost per message on top of a crossing
//   send now      the same with the blob handed over: transferred beside the encoded message
//   fs write / read   writeFileSync / readFileSync of the bytes (the raw column's two calls)
//   round trip    a parked worker asked and answered through a port + futex wake, as a process
//                 is: with nothing / with the bytes transferred there and back

import { MessageChannel, Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDeliveries, encodeDeliveriesParts, encodeDeliveriesView, isWithBlobs } from '../host/process/message-codec.js';
import { newRing, RingReceiver, RingSender } from '../host/process/ring.js';
import type { Delivery } from '../host/types.js';

const { Memory } = WebAssembly as unknown as { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
const ROUNDS = Math.max(1, Number(process.argv[2] ?? 7));
const SIZES: Array<[string, number]> = [
  ['4 KiB', 4096],
  ['1 MiB', 1 << 20],
];

/** CPU time of this process (all threads; user + system, so page faults count), µs */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * µs per call of `f` over `n` calls: [median, min] over the rounds, in CPU time of the process
 * (the machine is shared: wall time would count the waits for a core, which moved these
 * figures 2-10x between rounds; CPU time does not).
 */
function time(n: number, f: (i: number) => void): [number, number] {
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuNow();
    for (let i = 0; i < n; i++) f(i);
    per.push((cpuNow() - c0) / n);
  }
  per.sort((a, b) => a - b);
  return [per[per.length >> 1]!, per[0]!];
}

/** The same for round trips to a worker: CPU of both threads, and the wall time per trip. */
async function timeAsync(n: number, f: () => Promise<void>): Promise<[number, number, number]> {
  const per: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuNow();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await f();
    per.push((cpuNow() - c0) / n);
    wall.push(((performance.now() - t0) * 1000) / n);
  }
  per.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  return [per[per.length >> 1]!, per[0]!, wall[wall.length >> 1]!];
}

const addr = (p: string) => ({ node: 'fake.os', process: { processName: p, packageName: 'bench', publisherNode: 'bench.os' } });
const delivery = (bytes: Uint8Array): Delivery => ({
  kind: 'message',
  km: {
    id: 1n,
    source: addr('vfs'),
    target: addr('rs'),
    rsvp: undefined,
    message: { tag: 'response', val: [{ inherit: false, body: new TextEncoder().encode('"Read"'), metadata: undefined, capabilities: [] }, undefined] },
    lazyLoadBlob: { mime: 'application/octet-stream', bytes },
  },
});

/** a worker parked on a futex, answering each request on its port (the relay's shape) */
const ECHO = `
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData.cell);
parentPort.on('message', (n) => {
  for (let i = 0; i < n; i++) {
    parentPort.postMessage(0);
    let m;
    for (;;) { const seen = Atomics.load(cell, 0); m = receiveMessageOnPort(workerData.replies); if (m) break; Atomics.wait(cell, 0, seen); }
    const b = m.message;
    if (b instanceof Uint8Array) parentPort.postMessage(b, [b.buffer]); else parentPort.postMessage(1);
  }
});`;

async function roundTrips(size: number, n: number): Promise<[number, number, number]> {
  const sab = new SharedArrayBuffer(4);
  const cell = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(ECHO, { eval: true, workerData: { cell: sab, replies: port2 }, transferList: [port2] });
  // the bytes go back and forth transferred, never copied: the buffer that comes back is sent next
  let bytes: Uint8Array | undefined = size ? new Uint8Array(size) : undefined;
  let next: (() => void) | undefined;
  let expectEcho = false;
  w.on('message', (m: unknown) => {
    if (expectEcho) {
      expectEcho = false;
      if (m instanceof Uint8Array) bytes = m;
      next?.();
      return;
    }
    // the worker's request: answer it and wake it
    expectEcho = true;
    port1.postMessage(bytes ?? 0, bytes ? [bytes.buffer as ArrayBuffer] : []);
    Atomics.add(cell, 0, 1);
    Atomics.notify(cell, 0);
  });
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      next = resolve;
      w.postMessage(1);
    });
  const r = await timeAsync(n, one);
  await w.terminate();
  port1.close();
  return r;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'blob-copies-'));
  const out: string[] = [];
  const fmt = ([m, lo, wall]: number[]) => `${m!.toFixed(1)} (${lo!.toFixed(1)})${wall === undefined ? '' : `; wall ${wall.toFixed(1)}`}`;
  for (const [label, size] of SIZES) {
    const n = size > 100_000 ? 200 : 5000;
    const mem = new Memory({ initial: Math.ceil((2 * size) / 65536) + 1 });
    const guest = new Uint8Array(mem.buffer);
    for (let i = 0; i < size; i++) guest[i] = i & 255;
    const bytes = new Uint8Array(mem.buffer.slice(0, size));
    const file = join(dir, 'f.bin');
    const row = (name: string, v: number[]) => out.push(`| ${label} | ${name} | ${fmt(v)} |`);
    row('lift (jco: memory.buffer.slice)', time(n, () => void new Uint8Array(mem.buffer.slice(0, size))));
    row('lower (get-blob: set into memory)', time(n, () => guest.set(bytes, size)));
    // one direction of the link, both ends on this thread: encode, ring or port, decode
    const sab = newRing();
    const ch = new MessageChannel();
    const tx = new RingSender(sab, ch.port1);
    const rx = new RingReceiver(sab, ch.port2);
    const take = (): Delivery[] => {
      const m = rx.next() as Uint8Array | { t: string };
      return isWithBlobs(m) ? decodeDeliveries(m.head, m.blobs) : decodeDeliveries(m as Uint8Array);
    };
    row('send before: encode + ring/port copy + decode', time(n, () => {
      tx.sendBytes(encodeDeliveriesView([delivery(bytes)]));
      if (take()[0]!.kind !== 'message') throw new Error('lost');
    }));
    row('send now: encode head + transfer blob + decode', time(n, () => {
      const enc = encodeDeliveriesParts([delivery(new Uint8Array(mem.buffer.slice(0, size)))], () => true);
      if (enc instanceof Uint8Array) tx.sendBytes(enc);
      else tx.sendObject(enc, [enc.head.buffer, ...enc.blobs]);
      if (take()[0]!.kind !== 'message') throw new Error('lost');
    }));
    row('  (of which the lift that gives it a buffer of its own)', time(n, () => void new Uint8Array(mem.buffer.slice(0, size))));
    ch.port1.close();
    row('fs write (writeFileSync)', time(n, () => writeFileSync(file, bytes)));
    row('fs read (readFileSync)', time(n, () => void readFileSync(file)));
    row('round trip to a parked worker, nothing carried', await roundTrips(0, n));
    row('round trip to a parked worker, bytes transferred both ways', await roundTrips(size, n));
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`| size | step | CPU µs per op, median (min) of ${ROUNDS} rounds |\n|---|---|---|\n${out.join('\n')}\n`);
}

void main();
