// The worker's end of the kernel connection: fire-and-forget posts, blocking calls and the
// blocking inbox, all parked with Atomics.wait so only this process's thread waits.

import { parentPort, type MessagePort } from 'node:worker_threads';
import type { Address, Delivery, KernelMessage } from '../types.js';
import { decodeDeliveryItem, encodeOutgoingParts, type GiveUp, type WithBlobs } from './message-codec.js';
import { AWAITING, DOORBELL, HOLD, Parking, POLLING, SPIN_NONE, TAKEN } from './park.js';
import { AwaitSpin } from './await-spin.js';
import { RingReceiver, RingSender } from './ring.js';
import { isKernelControl, type CallReply, type KernelCall, type WorkerToKernel } from './wire-protocol.js';
import { Lanes } from './lanes.js';
import { ProcessTrap } from './process-host.js';

const NONE: Delivery[] = [];
/** deliveries between two looks at the lane timers when the queue does not run dry (a power of two) */
const DUE_CHECK = 32;

export class KernelLink {
  private readonly parking: Parking;
  private readonly spin: AwaitSpin;
  private seq = 0;
  /** deliveries of the last batch the kernel posted, not yet taken */
  private queue: Delivery[] = [];
  private next = 0;
  private sinceDueCheck = 0;

  private readonly cell: Int32Array;
  private readonly in: RingReceiver;
  private readonly out: RingSender;
  private readonly poll: () => unknown;
  /** paths straight to other processes' workers (lanes.ts) */
  private readonly lanes: Lanes;

  constructor(
    signal: SharedArrayBuffer,
    inRing: SharedArrayBuffer,
    outRing: SharedArrayBuffer,
    inbox: MessagePort,
    private readonly replies: MessagePort,
    outbox: MessagePort,
    /** µs cap of the spin in an await (await-spin.ts); 0: park at once */
    spinCapUs = 0,
    /** the node's spin seats and this worker's id in them (park.ts) */
    spinners: SharedArrayBuffer | undefined,
    spinId: number,
    /** the process's address: the source of what it sends over a lane */
    our: Address,
  ) {
    this.parking = new Parking(signal, spinners ? new Int32Array(spinners) : undefined, spinId);
    this.spin = new AwaitSpin(spinCapUs);
    this.cell = new Int32Array(signal);
    this.in = new RingReceiver(inRing, inbox);
    this.out = new RingSender(outRing, outbox);
    this.lanes = new Lanes(our, (m) => this.post(m));
    const lanes = this.lanes;
    this.poll = () => {
      const m = this.in.next();
      if (m !== undefined) return m;
      return lanes.hasIn ? lanes.poll() : undefined;
    };
  }

  /** Run `f` each time this thread is about to park (the memory gauge). */
  beforePark(f: () => void): void {
    this.parking.beforePark = f;
  }

  // Everything for the kernel goes into the out-ring (objects and what does not fit: its outbox
  // port, in sequence), which the kernel does not watch; a doorbell on parentPort makes it drain
  // them, and one is sent only when none is on its way. A burst of sends costs the main thread
  // one event, while each message still leaves at once (nothing waits in the worker).
  post(m: WorkerToKernel): void {
    this.out.sendObject(m);
    this.doorbell();
  }

  /**
   * Outgoing messages, encoded (see message-codec.ts) and copied into the out-ring; big blobs
   * that `giveUp` hands over are transferred beside them instead (the process keeps no copy).
   */
  send(items: Array<Omit<KernelMessage, 'source'>>, giveUp: GiveUp): void {
    if (this.lanes.hasOut) return this.sendSplit(items, giveUp);
    this.sendToKernel(items, giveUp);
  }

  /** Items a lane takes go over it; the rest, in their order, to the kernel. */
  private sendSplit(items: Array<Omit<KernelMessage, 'source'>>, giveUp: GiveUp): void {
    let from = 0;
    for (let i = 0; i < items.length; i++) {
      if (!this.lanes.trySend(items[i]!, giveUp)) continue;
      if (i > from) this.sendToKernel(items.slice(from, i), giveUp);
      from = i + 1;
    }
    if (from < items.length) this.sendToKernel(from === 0 ? items : items.slice(from), giveUp);
  }

  private sendToKernel(items: Array<Omit<KernelMessage, 'source'>>, giveUp: GiveUp): void {
    const enc = encodeOutgoingParts(items, giveUp);
    if (enc instanceof Uint8Array) this.out.sendBytes(enc);
    else this.out.sendObject(enc, [enc.head.buffer, ...enc.blobs]);
    this.doorbell();
  }

  /**
   * After the last post: keep this thread (and so its end of the outbox) alive until the kernel
   * has drained the outbox and terminates the worker. A thread that simply ended could take
   * messages still in the outbox with it.
   */
  holdUntilTerminated(): never {
    for (;;) Atomics.wait(this.cell, HOLD, 0);
  }

  private doorbell(): void {
    // the kernel clears the flag before it drains: a failed exchange means a drain is to come.
    // While the kernel polls this cell (POLLING, kernel/await-poll.ts) the flag alone is seen:
    // no message, no wake-up of the main thread. The kernel clears POLLING before its last look
    // at the flag, and we set the flag before reading POLLING: one of us sees the other.
    if (Atomics.compareExchange(this.cell, DOORBELL, 0, 1) === 0 && Atomics.load(this.cell, POLLING) === 0) parentPort!.postMessage(0);
  }

  /** Mark the start of an await (the kernel may poll for our next send once it answers). */
  beginAwait(): number {
    Atomics.store(this.cell, AWAITING, 1);
    this.parking.spinOutcome = SPIN_NONE;
    return performance.now();
  }

  /** The await that began at `t0` has its answer. */
  endAwait(t0: number): void {
    Atomics.store(this.cell, AWAITING, 0);
    this.spin.record((performance.now() - t0) * 1000, this.parking.spinOutcome);
  }

  /** A blocking call into the kernel. A kernel-side failure traps the process, as in the runtime. */
  call(call: KernelCall): unknown {
    const seq = ++this.seq;
    const t0 = this.beginAwait();
    this.post({ t: 'call', seq, call });
    const reply = this.parking.take<CallReply>(this.replies, this.spin.budget());
    this.endAwait(t0);
    if (reply.seq !== seq) throw new ProcessTrap(`kernel reply out of order (${reply.seq} != ${seq})`);
    if (!reply.ok) throw new ProcessTrap(reply.error);
    return reply.value;
  }

  /** The next delivery, parking while there is none; `awaiting` (send-and-await) spins first (await-spin.ts). */
  nextDelivery(awaiting = false): Delivery {
    const lanes = this.lanes;
    // an await is counted (and spins) once: a control item or a timer's wake-up is not its answer
    let spinUs = awaiting ? this.spin.budget() : -1;
    for (;;) {
      const timed = lanes.timers.size !== 0;
      // lane requests' timers are looked at when the queue runs dry and every DUE_CHECK
      // deliveries (a clock read per delivery was a measured part of a flooding pair's cost)
      if (this.next < this.queue.length && (!timed || (++this.sinceDueCheck & (DUE_CHECK - 1)) !== 0)) {
        const d = this.queue[this.next++]!;
        if (timed) lanes.settled(d);
        return d;
      }
      let waitMs = Infinity;
      if (timed) {
        const now = performance.now();
        const due = lanes.timers.due(now);
        if (due !== undefined) return due;
        if (this.next < this.queue.length) continue;
        waitMs = lanes.timers.msUntilDue(now);
      }
      this.queue = this.unpack(this.parking.takeFrom(this.poll, spinUs, waitMs));
      this.next = 0;
      spinUs = -1;
    }
  }

  /** What the poll gave, as deliveries in the order the process takes them. */
  private unpack(got: unknown): Delivery[] {
    if (Array.isArray(got)) return got as Delivery[]; // from a lane
    if (got === undefined) return NONE; // a lane request's timer is due (the bounded park ran out)
    if (isKernelControl(got)) {
      this.lanes.accept(got);
      return NONE;
    }
    const batch = decodeDeliveryItem(got as Uint8Array | WithBlobs);
    // the batch has left the mailbox: the kernel counts it out (kernel/process-slot.ts)
    Atomics.add(this.cell, TAKEN, 1);
    return this.lanes.hasIn ? this.lanes.order(batch) : batch;
  }
}
