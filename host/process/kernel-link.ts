// The worker's end of the kernel connection: fire-and-forget posts, blocking calls and the
// blocking inbox, all parked with Atomics.wait so only this process's thread waits.

import { parentPort, type MessagePort } from 'node:worker_threads';
import type { Delivery, KernelMessage } from '../types.js';
import { decodeDeliveries, encodeOutgoing } from './message-codec.js';
import { Parking } from './park.js';
import type { CallReply, KernelCall, WorkerToKernel } from './wire-protocol.js';
import { ProcessTrap } from './process-host.js';

export class KernelLink {
  private readonly parking: Parking;
  private seq = 0;
  /** deliveries of the last batch the kernel posted, not yet taken */
  private queue: Delivery[] = [];
  private next = 0;

  constructor(
    signal: SharedArrayBuffer,
    private readonly inbox: MessagePort,
    private readonly replies: MessagePort,
  ) {
    this.parking = new Parking(signal);
  }

  post(m: WorkerToKernel): void {
    parentPort!.postMessage(m);
  }

  /** Outgoing messages, encoded (see message-codec.ts) and transferred rather than cloned. */
  send(items: Array<Omit<KernelMessage, 'source'>>): void {
    const buf = encodeOutgoing(items);
    parentPort!.postMessage(buf, [buf.buffer]);
  }

  /** A blocking call into the kernel. A kernel-side failure traps the process, as in the runtime. */
  call(call: KernelCall): unknown {
    const seq = ++this.seq;
    this.post({ t: 'call', seq, call });
    const reply = this.parking.take<CallReply>(this.replies)!;
    if (reply.seq !== seq) throw new ProcessTrap(`kernel reply out of order (${reply.seq} != ${seq})`);
    if (!reply.ok) throw new ProcessTrap(reply.error);
    return reply.value;
  }

  nextDelivery(): Delivery {
    if (this.next >= this.queue.length) {
      this.queue = decodeDeliveries(this.parking.take<Uint8Array>(this.inbox)!);
      this.next = 0;
    }
    return this.queue[this.next++]!;
  }
}
