// The floor of the "Rust process → vfs" rows (bench section 7): a bare worker thread relaying
// each Write + Read pair through the main thread, which does the same writeFileSync /
// readFileSync as the raw side. No kernel, no codec, no component: only what one thread per
// process costs at the least for a blob — the copy out of the guest memory, two blocking
// round trips between the threads (each a MessagePort post one way and a futex wake the
// other), the buffers transferred both ways, the copy into the guest memory.

import { MessageChannel, Worker } from 'node:worker_threads';
import { readFileSync, writeFileSync } from 'node:fs';
import type { RelayCommand, RelayInit, RelayReply, RelayRequest } from './vfs-relay-worker.js';

export interface VfsRelay {
  /** `n` pairs of `size` bytes to `file`: ms taken */
  pairs(file: string, size: number, n: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startVfsRelay(): Promise<VfsRelay> {
  const sab = new SharedArrayBuffer(4);
  const cell = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  const init: RelayInit = { cell: sab, replies: port2 };
  const worker = new Worker(new URL('./vfs-relay-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
  let file = '';
  let seq = 0;
  let done: ((ok: boolean) => void) | undefined;
  const reply = (r: RelayReply, transfer?: ArrayBuffer[]): void => {
    port1.postMessage(r, transfer);
    Atomics.add(cell, 0, 1);
    Atomics.notify(cell, 0);
  };
  worker.on('message', (m: RelayRequest) => {
    try {
      if (m.op === 'write') {
        writeFileSync(file, m.bytes);
        reply({ ok: true });
      } else if (m.op === 'read') {
        const bytes = readFileSync(file);
        // a pooled Buffer shares its ArrayBuffer: only a buffer of its own is transferred
        const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
        reply({ ok: true, bytes }, own ? [bytes.buffer as ArrayBuffer] : undefined);
      } else if (m.seq === seq) done?.(m.ok);
    } catch (e) {
      reply({ ok: false, error: String(e) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  return {
    async pairs(f: string, size: number, n: number): Promise<number> {
      file = f;
      const t0 = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        done = resolve;
        worker.postMessage({ size, n, seq: ++seq } satisfies RelayCommand);
      });
      if (!ok) throw new Error('the vfs relay worker failed a pair');
      return performance.now() - t0;
    },
    async stop(): Promise<void> {
      port1.close();
      await worker.terminate();
    },
  };
}
