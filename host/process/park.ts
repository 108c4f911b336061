// Blocking receive for a worker: take the next message from a port, parking the thread on a
// shared counter while there is none. The kernel posts first and bumps the counter second, so
// a post that lands between our empty check and the wait changes the counter and the wait
// returns at once.

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export class Parking {
  private readonly counter: Int32Array;

  constructor(signal: SharedArrayBuffer) {
    this.counter = new Int32Array(signal);
  }

  /** Next message on `port`, or undefined when `deadline` (ms since epoch) passes first. */
  take<T>(port: MessagePort, deadline?: number): T | undefined {
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = receiveMessageOnPort(port);
      if (m) return m.message as T;
      if (deadline === undefined) {
        Atomics.wait(this.counter, 0, seen);
      } else {
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        Atomics.wait(this.counter, 0, seen, left);
      }
    }
  }

  /** Non-blocking variant. */
  poll<T>(port: MessagePort): T | undefined {
    const m = receiveMessageOnPort(port);
    return m ? (m.message as T) : undefined;
  }
}

/** Kernel side: wake a parked worker after posting to one of its ports. */
export function wake(signal: Int32Array): void {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}
