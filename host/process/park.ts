// Blocking receive for a worker: take the next message from a port (or the inbox ring), parking the thread on a
// shared counter while there is none. The shared Int32Array holds [counter, parked]: the kernel
// posts first and bumps the counter second, so a post that lands between our empty check and
// the wait changes the counter and the wait returns at once. `parked` tells the kernel whether
// a notify is needed at all (Atomics.notify takes a lock even with no waiter).

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

const COUNTER = 0;
const PARKED = 1;
/** worker -> kernel: 1 while a doorbell for the outbox is on its way (see kernel-link.ts) */
export const DOORBELL = 2;
/** never written: a finished worker waits on it until the kernel terminates it */
export const HOLD = 3;
/** worker -> kernel: delivery batches taken from the inbox so far (mailbox accounting) */
export const TAKEN = 4;
/** worker -> kernel: KiB of the process's wasm memories and of its worker's JS heap (memory-gauge.ts) */
export const WASM_KIB = 5;
export const HEAP_KIB = 6;
/** bytes of the shared signal buffer */
export const SIGNAL_BYTES = 28;

export class Parking {
  private readonly cell: Int32Array;
  /** called each time the thread is about to park (the memory gauge; cheap, self-throttled) */
  beforePark: (() => void) | undefined;

  constructor(signal: SharedArrayBuffer) {
    this.cell = new Int32Array(signal);
  }

  /** The next item `poll` gives (the inbox ring, kernel-link.ts), parking while it gives none. */
  takeFrom<T>(poll: () => T | undefined): T {
    for (;;) {
      const seen = Atomics.load(this.cell, COUNTER);
      const m = poll();
      if (m !== undefined) return m;
      // as in take(): parked is set before Atomics.wait re-checks the counter
      this.beforePark?.();
      Atomics.store(this.cell, PARKED, 1);
      Atomics.wait(this.cell, COUNTER, seen);
      Atomics.store(this.cell, PARKED, 0);
    }
  }

  /** Next message on `port`, or undefined when `deadline` (ms since epoch) passes first. */
  take<T>(port: MessagePort, deadline?: number): T | undefined {
    for (;;) {
      const seen = Atomics.load(this.cell, COUNTER);
      const m = receiveMessageOnPort(port);
      if (m) return m.message as T;
      // parked is set before the counter is re-checked by Atomics.wait: a kernel that bumps the
      // counter after our load either sees parked=1 and notifies, or bumped before the wait
      // compares, and the wait returns at once
      this.beforePark?.();
      Atomics.store(this.cell, PARKED, 1);
      if (deadline === undefined) {
        Atomics.wait(this.cell, COUNTER, seen);
      } else {
        const left = deadline - Date.now();
        if (left > 0) Atomics.wait(this.cell, COUNTER, seen, left);
      }
      Atomics.store(this.cell, PARKED, 0);
      if (deadline !== undefined && deadline - Date.now() <= 0) {
        const last = receiveMessageOnPort(port);
        return last ? (last.message as T) : undefined;
      }
    }
  }
}

/** Kernel side: wake a parked worker after posting to one of its ports or writing its ring. */
export function wake(cell: Int32Array): void {
  Atomics.add(cell, COUNTER, 1);
  if (Atomics.load(cell, PARKED) === 1) Atomics.notify(cell, COUNTER);
}
