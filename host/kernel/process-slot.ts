// The main-thread handle of one process instance: its worker, its three ports (inbox, call
// replies, outbox) and the shared cells the worker parks on. Deliveries posted before the worker
// starts wait in the inbox port, which gives Kinode's boot gating (held, then replayed in order)
// for free. Deliveries are batched: those made in one turn of the main thread's event loop travel
// as one post and one wake-up (setImmediate flushes them after the message events already
// pending), which was most of the per-message cost.

import { MessageChannel, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import type { Delivery } from '../types.js';
import { DOORBELL, SIGNAL_BYTES, wake } from '../process/park.js';
import { decodeOutgoing, encodeDeliveries } from '../process/message-codec.js';
import type { CallReply, WorkerInit, WorkerToKernel } from '../process/wire-protocol.js';

import type { WorkerPool } from './worker-pool.js';

export class ProcessSlot {
  private readonly signal = new SharedArrayBuffer(SIGNAL_BYTES);
  private readonly counter = new Int32Array(this.signal);
  private readonly inbox = new MessageChannel();
  private readonly replies = new MessageChannel();
  private readonly outbox = new MessageChannel();
  private worker: Worker | undefined;
  private ended = false;
  private batch: Delivery[] | undefined;

  constructor(private readonly pool: WorkerPool) {}

  deliver(d: Delivery): void {
    if (this.ended) return;
    if (this.batch) {
      this.batch.push(d);
      return;
    }
    this.batch = [d];
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const batch = this.batch;
    this.batch = undefined;
    if (this.ended || !batch) return;
    const buf = encodeDeliveries(batch);
    this.inbox.port1.postMessage(buf, [buf.buffer]);
    wake(this.counter);
  };

  reply(r: CallReply): void {
    if (this.ended) return;
    this.replies.port1.postMessage(r);
    wake(this.counter);
  }

  get started(): boolean {
    return this.worker !== undefined;
  }

  start(
    init: Omit<WorkerInit, 'signal' | 'inbox' | 'replies' | 'outbox'>,
    onMessage: (m: WorkerToKernel) => void,
    onGone: (why: string) => void,
  ): void {
    const data: WorkerInit = { ...init, signal: this.signal, inbox: this.inbox.port2, replies: this.replies.port2, outbox: this.outbox.port2 };
    const w = this.pool.take();
    this.worker = w;
    const outbox = this.outbox.port1;
    w.on('message', () => {
      // the doorbell: clear first, so a post that finds the flag still set is drained below
      Atomics.store(this.counter, DOORBELL, 0);
      for (let got = receiveMessageOnPort(outbox); got && !this.ended; got = receiveMessageOnPort(outbox)) {
        const m = got.message as WorkerToKernel | Uint8Array;
        onMessage(m instanceof Uint8Array ? { t: 'send', items: decodeOutgoing(m) } : m);
      }
    });
    w.on('error', (e) => onGone(`worker error: ${e.message}`));
    w.on('exit', (code) => onGone(`worker exited with code ${code}`));
    w.postMessage(data, [this.inbox.port2, this.replies.port2, this.outbox.port2]);
  }

  /** JS heap in use by the worker where Node can tell (getHeapStatistics, Node 22.16+); else undefined. */
  async heapUsed(): Promise<number | undefined> {
    const w = this.worker as (Worker & { getHeapStatistics?: () => Promise<{ used_heap_size: number }> }) | undefined;
    if (!w || this.ended || typeof w.getHeapStatistics !== 'function') return undefined;
    return (await w.getHeapStatistics()).used_heap_size;
  }

  /** Ends the instance at once, even inside an infinite loop or a parked wait. */
  async terminate(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.inbox.port1.close();
    this.replies.port1.close();
    this.outbox.port1.close();
    const w = this.worker;
    if (w) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      w.removeAllListeners('message');
      w.on('error', () => {});
      await w.terminate();
    }
  }
}
