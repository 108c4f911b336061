// The floor of the design for bench section 3: two bare worker threads (bench/raw-worker.ts,
// modes 'ring-a' and 'ring-b') exchanging request/response through the main thread with the
// host's own machinery — the shared-memory rings of host/process/ring.ts in both directions, the
// doorbell post that makes the main thread drain a worker's out-ring, deliveries gathered per
// event-loop turn and flushed (setImmediate) as one ring entry with one wake-up, the worker
// parking in Atomics.wait (host/process/park.ts) — and nothing else: no component, no codec, no
// routing, capabilities, timers or mailbox accounting. Each message is a flat 16-byte record.
// What the host spends above this row is ours; this row is what the design itself costs here.

import { MessageChannel, Worker } from 'node:worker_threads';
import { DOORBELL, SIGNAL_BYTES, wake } from '../host/process/park.js';
import { newRing, RingReceiver, RingSender } from '../host/process/ring.js';

/** bytes of one flat message: [id u32][expects u32][body length u32][body, 1 byte, padded] */
export const RELAY_MSG = 16;

/** The main-thread end of one worker: its rings, its signal cell, the batch being gathered. */
class End {
  readonly signal = new SharedArrayBuffer(SIGNAL_BYTES);
  readonly cell = new Int32Array(this.signal);
  readonly inRing = newRing();
  readonly outRing = newRing();
  readonly inbox = new MessageChannel();
  readonly outbox = new MessageChannel();
  readonly toWorker = new RingSender(this.inRing, this.inbox.port1);
  readonly fromWorker = new RingReceiver(this.outRing, this.outbox.port1);
  private batch = new Uint8Array(64 * RELAY_MSG);
  private len = 0;

  constructor(readonly worker: Worker) {}

  init(mode: string) {
    return {
      msg: { mode, signal: this.signal, inRing: this.inRing, outRing: this.outRing, inbox: this.inbox.port2, outbox: this.outbox.port2 },
      transfer: [this.inbox.port2, this.outbox.port2],
    };
  }

  /** as ProcessSlot.deliver: gather in this turn, flush once at setImmediate */
  deliver(m: Uint8Array): void {
    if (this.len + m.length > this.batch.length) {
      const next = new Uint8Array(this.batch.length * 2);
      next.set(this.batch.subarray(0, this.len));
      this.batch = next;
    }
    const first = this.len === 0;
    this.batch.set(m, this.len);
    this.len += m.length;
    if (first) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.toWorker.sendBytes(this.batch.subarray(0, this.len));
    this.len = 0;
    wake(this.cell);
  };
}

export interface RingRelay {
  /** `n` request/response round trips with `window` in flight; resolves with the ms a took */
  rr(n: number, window: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startRingRelay(file: URL): Promise<RingRelay> {
  const a = new End(new Worker(file, { workerData: { mode: 'ring-a' } }));
  const b = new End(new Worker(file, { workerData: { mode: 'ring-b' } }));
  let done: ((ms: number) => void) | undefined;
  const link = (from: End, to: End): void => {
    from.worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'ms' in m) {
        done?.((m as { ms: number }).ms);
        return;
      }
      // the doorbell, as in ProcessSlot: clear first, then drain every item the worker wrote
      Atomics.store(from.cell, DOORBELL, 0);
      for (let item = from.fromWorker.next(); item !== undefined; item = from.fromWorker.next()) {
        to.deliver(item as Uint8Array);
      }
    });
  };
  const up = (e: End) => new Promise<void>((r) => e.worker.once('message', () => r()));
  const ups = [up(a), up(b)];
  for (const e of [a, b]) {
    const { msg, transfer } = e.init(e === a ? 'ring-a' : 'ring-b');
    e.worker.postMessage(msg, transfer);
  }
  await Promise.all(ups);
  link(a, b);
  link(b, a);
  return {
    rr: (n, window) =>
      new Promise<number>((resolve) => {
        done = resolve;
        a.worker.postMessage({ cmd: 'rr', n, window });
      }),
    stop: async () => {
      await a.worker.terminate();
      await b.worker.terminate();
    },
  };
}
