// The main-thread handle of one process instance: its worker, its two shared-memory rings
// (deliveries in, sends out; process/ring.ts) with the inbox and outbox ports beside them for
// what a ring cannot take, the call-replies port, and the shared cells the worker parks on.
// Deliveries made before the worker starts wait in the in-ring (or the inbox port), which gives
// Kinode's boot gating (held, then replayed in order) for free. Deliveries are batched: those made in one turn of the main thread's event loop travel
// as one ring entry and one wake-up (setImmediate flushes them after the message events already
// pending), which was most of the per-message cost.
//
// The mailbox is bounded (issue 11.3): what was delivered and not yet taken by the worker (posted
// batches the worker has not picked up, plus the batch being gathered) may hold at most
// `maxMessages` messages and `maxBytes` bytes of bodies and blobs. The kernel asks `hasRoom`
// before delivering and decides what a refused sender sees (kernel.ts `mailboxFull`). The worker
// counts the batches it takes in a shared cell, so the accounting costs no message.

import { MessageChannel, type TransferListItem, type Worker } from 'node:worker_threads';
import type { Delivery } from '../types.js';
import { availableParallelism } from 'node:os';
import { AWAITING, DOORBELL, PARKED_AWAITS, releaseSpinSeat, SIGNAL_BYTES, SPUN, TAKEN, wake } from '../process/park.js';
import { spinCapFromEnv } from '../process/await-spin.js';
import { AwaitPoll } from './await-poll.js';
import { CpuPressure } from './cpu-pressure.js';
import { readGauge } from '../process/memory-gauge.js';
import { decodeOutgoing, encodeDeliveriesParts, isWithBlobs } from '../process/message-codec.js';
import { isHandedOver } from './blob-handover.js';
import { newRing, RING_DATA_BYTES, RingReceiver, RingSender } from '../process/ring.js';
import type { CallReply, KernelControl, WorkerInit, WorkerToKernel } from '../process/wire-protocol.js';

import type { BootTicket, WorkerPool } from './worker-pool.js';
import { heapLimitText } from '../process/memory-verdict.js';


/** A delivery batch is handed over once its messages account for this much (half a ring). */
const FLUSH_BATCH_BYTES = RING_DATA_BYTES / 2;
/** Items one doorbell's drain takes from a worker before it yields to the event loop. */
const DRAIN_ITEMS_PER_TURN = 1024;

const outOfMemory = (e: Error): boolean => (e as Error & { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';

export interface MailboxLimits {
  maxMessages: number;
  maxBytes: number;
}

/** Per message on top of its body and blob: addresses, ids, the decoded objects. */
const MESSAGE_OVERHEAD = 256;

function sizeOf(d: Delivery): number {
  if (d.kind === 'error') return MESSAGE_OVERHEAD;
  const m = d.km.message;
  const body = m.tag === 'request' ? m.val.body.length : m.val[0].body.length;
  return MESSAGE_OVERHEAD + body + (d.km.lazyLoadBlob?.bytes.length ?? 0);
}

/**
 * Shared by every worker of this Node process: [0] 1 while the machine has no spare core
 * (cpu-pressure.ts: nobody spins then); [1..] the spin seats, cores − 1 of them, each 0 or the
 * id of the worker spinning in it (park.ts)
 */
const SEATS = Math.max(1, availableParallelism() - 1);
const SPINNERS = new SharedArrayBuffer(4 * (1 + SEATS));
const SPIN_CELLS = new Int32Array(SPINNERS);
const PRESSURE = new CpuPressure(SPIN_CELLS, 0);
let lastSpinId = 0;
const hasSpareCore = (): boolean => PRESSURE.hasSpareCore();

export class ProcessSlot {
  private readonly signal = new SharedArrayBuffer(SIGNAL_BYTES);
  private readonly counter = new Int32Array(this.signal);
  private readonly inbox = new MessageChannel();
  private readonly replies = new MessageChannel();
  private readonly outbox = new MessageChannel();
  /** the shared-memory rings beside the inbox and outbox ports (process/ring.ts) */
  private readonly inRing = newRing();
  private readonly outRing = newRing();
  private readonly toWorker = new RingSender(this.inRing, this.inbox.port1);
  private readonly fromWorker = new RingReceiver(this.outRing, this.outbox.port1);
  private worker: Worker | undefined;
  /** tells the pool when this start is over (worker-pool.ts: the spare's refill) */
  private ticket: BootTicket | undefined;
  private ended = false;
  /** polls for the next send of a worker just answered inside an await (await-poll.ts) */
  private poll: AwaitPoll | undefined;
  /** this slot's worker's id in the spin seats */
  private readonly spinId = (lastSpinId = (lastSpinId % 0x7fffffff) + 1);
  private batch: Delivery[] | undefined;
  private batchBytes = 0;
  /** posted batches not yet known to be taken: [messages, bytes] each, oldest first */
  private readonly posted: Array<[number, number]> = [];
  private postedHead = 0;
  /** batches counted out so far (compared with the worker's TAKEN cell) */
  private reclaimed = 0;
  /** messages and bytes in the mailbox (posted and not taken, plus the batch being gathered) */
  private queuedMessages = 0;
  private queuedBytes = 0;
  /** messages refused since the mailbox was last found with room (for the kernel's prints) */
  refused = 0;

  constructor(
    private readonly pool: WorkerPool,
    private readonly limits: MailboxLimits = { maxMessages: Infinity, maxBytes: Infinity },
  ) {}

  /** Count out the batches the worker has taken since we last looked. */
  private reclaim(): void {
    const taken = Atomics.load(this.counter, TAKEN);
    while (this.reclaimed !== taken && this.postedHead < this.posted.length) {
      const [n, bytes] = this.posted[this.postedHead++]!;
      this.queuedMessages -= n;
      this.queuedBytes -= bytes;
      this.reclaimed++;
    }
    if (this.postedHead > 1024 && this.postedHead * 2 > this.posted.length) {
      this.posted.splice(0, this.postedHead);
      this.postedHead = 0;
    }
  }

  /**
   * Would the mailbox take `d`? (Errors for the process's own requests always fit.) A message whose
   * bytes its sender already bounds (`bytesBudgeted`: http-server's body budget) is checked by
   * count only: it still counts toward the bytes other senders are checked against.
   */
  hasRoom(d: Delivery, bytesBudgeted = false): boolean {
    if (d.kind === 'error') return true;
    const bytes = bytesBudgeted ? 0 : sizeOf(d);
    if (this.fits(bytes)) return true;
    this.reclaim();
    // an empty mailbox takes one message of any size (the body limits are elsewhere)
    return this.queuedMessages === 0 || this.fits(bytes);
  }

  /** Room for one more message of `bytes` (0: bounded by count only). */
  private fits(bytes: number): boolean {
    return this.queuedMessages < this.limits.maxMessages && (bytes === 0 || this.queuedBytes + bytes <= this.limits.maxBytes);
  }

  /** What the mailbox holds now. */
  occupancy(): { messages: number; bytes: number } {
    this.reclaim();
    return { messages: this.queuedMessages, bytes: this.queuedBytes };
  }

  deliver(d: Delivery): void {
    if (this.ended) return;
    const size = sizeOf(d);
    this.queuedMessages++;
    this.queuedBytes += size;
    this.batchBytes += size;
    if (this.batch) {
      this.batch.push(d);
      // a sender outpacing the kernel's drain would otherwise grow one batch without end: past the
      // ring's reach it travels as one structured clone the worker decodes in one piece
      if (this.batchBytes >= FLUSH_BATCH_BYTES) this.flush();
      return;
    }
    this.batch = [d];
    // a worker blocked in an await wants this at once: hand it over at the end of this task (an
    // answer a module gives after the drain, as kv's group commit does, would otherwise wait a turn)
    if (Atomics.load(this.counter, AWAITING) === 1) queueMicrotask(this.flush);
    else setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const batch = this.batch;
    const bytes = this.batchBytes;
    this.batch = undefined;
    this.batchBytes = 0;
    if (this.ended || !batch) return;
    // read before the worker can see the batch: a worker spinning in its await takes it and
    // leaves the await at once, and its next send is exactly what the poll is for
    const awaiting = Atomics.load(this.counter, AWAITING) === 1;
    this.reclaim(); // keeps `posted` down to the batches still in the inbox
    this.posted.push([batch.length, bytes]);
    // blobs a module handed over (blob-handover.ts) are transferred, not copied
    const enc = encodeDeliveriesParts(batch, isHandedOver);
    if (enc instanceof Uint8Array) this.toWorker.sendBytes(enc);
    else this.toWorker.sendObject(enc, [enc.head.buffer, ...enc.blobs]);
    wake(this.counter);
    if (awaiting) this.poll?.start();
  };

  /**
   * A control item (a lane offered to the worker, or opened to it: process/lanes.ts) for the
   * worker, after every delivery made before it: the batch being gathered goes first.
   */
  control(c: KernelControl, transfer: readonly TransferListItem[]): void {
    if (this.ended) return;
    this.flush();
    this.toWorker.sendObject(c, transfer);
    wake(this.counter);
  }

  /** The cells the worker parks on (a lane's writer wakes its reader with them). */
  get signalBuffer(): SharedArrayBuffer {
    return this.signal;
  }

  /** The instance is over (terminated or ended), or never to start. */
  get isEnded(): boolean {
    return this.ended;
  }

  reply(r: CallReply): void {
    if (this.ended) return;
    const awaiting = Atomics.load(this.counter, AWAITING) === 1; // before the worker can leave its call (flush)
    this.replies.port1.postMessage(r);
    wake(this.counter);
    if (awaiting) this.poll?.start();
  }

  /** How this process's awaits went: answered without parking / parked, and the kernel's polls for its next send. */
  awaitStats(): { spun: number; parked: number; pollHits: number; pollMisses: number; pollsDeclined: number } {
    return {
      spun: Atomics.load(this.counter, SPUN),
      parked: Atomics.load(this.counter, PARKED_AWAITS),
      pollHits: this.poll?.hits ?? 0,
      pollMisses: this.poll?.misses ?? 0,
      pollsDeclined: this.poll?.declined ?? 0,
    };
  }

  get started(): boolean {
    return this.worker !== undefined;
  }

  start(
    init: Omit<WorkerInit, 'signal' | 'inRing' | 'outRing' | 'inbox' | 'replies' | 'outbox' | 'spinCapUs' | 'spinners' | 'spinId'>,
    onMessage: (m: WorkerToKernel) => void,
    onGone: (why: string) => void,
  ): void {
    const spinCapUs = spinCapFromEnv();
    const data: WorkerInit = {
      ...init,
      signal: this.signal,
      inRing: this.inRing,
      outRing: this.outRing,
      inbox: this.inbox.port2,
      replies: this.replies.port2,
      outbox: this.outbox.port2,
      spinCapUs,
      spinners: SPINNERS,
      spinId: this.spinId,
    };
    const { worker: w, ticket } = this.pool.take();
    this.worker = w;
    this.ticket = ticket;
    const from = this.fromWorker;
    const drain = (): void => {
      // bounded per turn: a worker that refills its ring as fast as the kernel drains it must not
      // keep the event loop (HTTP, timers, every other process) waiting
      let taken = 0;
      for (let m: unknown; !this.ended && taken < DRAIN_ITEMS_PER_TURN && (m = from.next()) !== undefined; taken++) {
        if (m instanceof Uint8Array) onMessage({ t: 'send', items: decodeOutgoing(m) });
        else if (isWithBlobs(m)) onMessage({ t: 'send', items: decodeOutgoing(m.head, m.blobs) });
        else {
          const t = (m as WorkerToKernel).t;
          // the start is over at its first print, wait or end: the pool's next boot may go
          if (t === 'print' || t === 'ended' || t === 'booted') this.startOver();
          if (t !== 'booted') onMessage(m as WorkerToKernel);
        }
      }
      // cut by the bound: go on next turn whatever is left, in the ring or in the port (the
      // doorbell for it has been taken; a worker waiting on what it sent would post no other);
      // else an item written to the ring but not yet in sequence (its predecessor still on its
      // way through the port): look again next turn rather than wait for another doorbell
      if (!this.ended && (taken === DRAIN_ITEMS_PER_TURN || from.pending())) setImmediate(drain);
      // an answer to this worker's own await produced while draining (a module that answered at
      // once, as vfs does): hand it over now rather than a turn later; an awaiting worker has
      // nothing else in flight to batch it with (the setImmediate flush then finds no batch)
      if (this.batch !== undefined && Atomics.load(this.counter, AWAITING) === 1) this.flush();
    };
    this.poll = new AwaitPoll(this.counter, data.spinCapUs, drain, () => this.ended, hasSpareCore);
    w.on('message', () => {
      // the doorbell: clear first, so a post that finds the flag still set is drained below
      Atomics.store(this.counter, DOORBELL, 0);
      this.poll!.rang();
      drain();
    });
    w.on('error', (e) => onGone(outOfMemory(e) ? heapLimitText(this.pool.limits.maxMemoryBytes) : `worker error: ${e.message}`));
    w.on('exit', (code) => {
      this.startOver();
      releaseSpinSeat(SPIN_CELLS, this.spinId);
      onGone(`worker exited with code ${code}`);
    });
    w.postMessage(data, [this.inbox.port2, this.replies.port2, this.outbox.port2]);
  }

  /**
   * This instance's start is over: tell the pool once. A later print must not settle the
   * refill another start is waiting on.
   */
  private startOver(): void {
    this.ticket?.settled();
    this.ticket = undefined;
  }

  /** The core modules, compiled after the start was posted (WorkerInit `coreModules`). */
  setCoreModules(coreModules: Record<string, WebAssembly.Module>): void {
    if (!this.ended) this.worker?.postMessage({ coreModules });
  }

  /** The process's memory as its worker last reported it (memory-gauge.ts); undefined when not running. */
  memory(): { wasm: number; heap: number } | undefined {
    if (!this.worker || this.ended) return undefined;
    const m = readGauge(this.counter);
    return m.wasm === 0 && m.heap === 0 ? undefined : m;
  }

  /** Ends the instance at once, even inside an infinite loop or a parked wait. */
  async terminate(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.startOver(); // a start cut short is over too
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
      releaseSpinSeat(SPIN_CELLS, this.spinId);
    }
  }
}
