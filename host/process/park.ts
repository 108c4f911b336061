// Blocking receive for a worker: take the next message from a port (or the inbox ring), parking the thread on a
// shared counter while there is none (inside an await, after a short bounded spin: spin below). The shared Int32Array holds [counter, parked]: the kernel
// posts first and bumps the counter second, so a post that lands between our empty check and
// the wait changes the counter and the wait returns at once. `parked` tells the kernel whether
// a notify is needed at all (Atomics.notify takes a lock even with no waiter).

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

const COUNTER = 0;
/** 1 while the worker's thread is parked (read by the kernel: wake, and the pool's refill) */
export const PARKED = 1;
/** worker -> kernel: 1 while a doorbell for the outbox is on its way (see kernel-link.ts) */
export const DOORBELL = 2;
/** never written: a finished worker waits on it until the kernel terminates it */
export const HOLD = 3;
/** worker -> kernel: delivery batches taken from the inbox so far (mailbox accounting) */
export const TAKEN = 4;
/** worker -> kernel: KiB of the process's wasm memories and of its worker's JS heap (memory-gauge.ts) */
export const WASM_KIB = 5;
export const HEAP_KIB = 6;
/** worker -> kernel: 1 while the process is inside a send-and-await or a blocking kernel call */
export const AWAITING = 7;
/** kernel -> worker: 1 while the kernel polls this worker's doorbell cell (no doorbell message needed) */
export const POLLING = 8;
/** worker -> kernel: awaits answered while the worker spun (no park, no notify) / awaits that parked */
export const SPUN = 9;
export const PARKED_AWAITS = 10;
/** bytes of the shared signal buffer */
export const SIGNAL_BYTES = 44;

/** how the last await's spin ended (await-spin.ts adapts to it) */
export const SPIN_NONE = 0;
export const SPIN_HIT = 1;
export const SPIN_TIMEOUT = 2;
export const SPIN_PREEMPTED = 3;
export type SpinOutcome = typeof SPIN_NONE | typeof SPIN_HIT | typeof SPIN_TIMEOUT | typeof SPIN_PREEMPTED;
/** a gap this long between two looks at the clock inside a spin means the thread was descheduled */
const PREEMPTED_MS = 0.03;

export class Parking {
  private readonly cell: Int32Array;
  /** how the spin of the last take / takeFrom ended */
  spinOutcome: SpinOutcome = SPIN_NONE;
  /** called each time the thread is about to park (the memory gauge; cheap, self-throttled) */
  beforePark: (() => void) | undefined;

  constructor(
    signal: SharedArrayBuffer,
    /** shared by every worker of the node: [0] no spare core, [1..] the spinning seats (see spin) */
    private readonly spinners?: Int32Array,
    /** this worker's id in a seat (> 0) */
    private readonly spinId = 1,
  ) {
    this.cell = new Int32Array(signal);
  }

  /**
   * The next item `poll` gives (the inbox ring, kernel-link.ts), parking while it gives none.
   * `spinUs` >= 0 marks an await (counted in SPUN / PARKED_AWAITS); with `spinUs` > 0
   * (await-spin.ts) the thread first watches the counter for up to that long: a kernel that finds it not parked needs no Atomics.notify, and the thread needs no
   * futex wake-up, which on this VM cost tens of µs per round trip (docs/performance.md §17).
   */
  takeFrom<T>(poll: () => T | undefined, spinUs?: number): T;
  /** the same, parking at most `waitMs` each time: undefined when a park ran out */
  takeFrom<T>(poll: () => T | undefined, spinUs: number, waitMs: number): T | undefined;
  takeFrom<T>(poll: () => T | undefined, spinUs = -1, waitMs = Infinity): T | undefined {
    let spun = false;
    let parked = false;
    this.spinOutcome = SPIN_NONE;
    for (;;) {
      const seen = Atomics.load(this.cell, COUNTER);
      const m = poll();
      if (m !== undefined) {
        if (spinUs >= 0) Atomics.add(this.cell, parked ? PARKED_AWAITS : SPUN, 1);
        return m;
      }
      if (spinUs > 0 && !spun) {
        spun = true;
        this.spinOutcome = this.spin(seen, spinUs);
        if (this.spinOutcome === SPIN_HIT) continue;
      }
      // parked is set before the counter is re-checked by Atomics.wait: a kernel that bumps the
      // counter after our load either sees parked=1 and notifies, or bumped before the wait
      // compares, and the wait returns at once
      this.beforePark?.();
      parked = true;
      Atomics.store(this.cell, PARKED, 1);
      const r = Atomics.wait(this.cell, COUNTER, seen, waitMs);
      Atomics.store(this.cell, PARKED, 0);
      // a bounded wait (a lane request's timer, kernel-link.ts) that ran out: undefined
      if (r === 'timed-out') return undefined;
    }
  }

  /**
   * Spin up to `us` µs for the counter to move from `seen` (the kernel wrote something). Bounded
   * in time and in company: a spinner holds one of the shared seats (cores − 1 of them), so
   * spinning never takes every core from the kernel and the other workers.
   * A spin that finds itself descheduled (a jump of PREEMPTED_MS between two looks at the clock:
   * the machine has no spare core) gives up at once: on a busy machine a thread that sleeps is
   * woken sooner by the scheduler than one that burned its share spinning (await-spin.ts backs off).
   */
  private spin(seen: number, us: number): SpinOutcome {
    const sp = this.spinners;
    let seat = 0;
    if (sp) {
      // [0]: the kernel found no spare core (kernel/cpu-pressure.ts)
      if (Atomics.load(sp, 0) === 1) return SPIN_NONE;
      // [1..]: the seats, each 0 or the id of the worker spinning in it
      for (let i = 1; i < sp.length; i++) {
        if (Atomics.compareExchange(sp, i, 0, this.spinId) === 0) {
          seat = i;
          break;
        }
      }
      if (seat === 0) return SPIN_NONE;
    }
    try {
      let last = performance.now();
      const end = last + us / 1000;
      for (let i = 1; ; i++) {
        if (Atomics.load(this.cell, COUNTER) !== seen) return SPIN_HIT;
        if ((i & 31) === 0) {
          const now = performance.now();
          if (now - last > PREEMPTED_MS) return SPIN_PREEMPTED;
          if (now >= end) return SPIN_TIMEOUT;
          last = now;
        }
      }
    } finally {
      // a worker terminated inside its spin never gets here: the kernel frees its seat (releaseSpinSeat)
      if (sp) Atomics.store(sp, seat, 0);
    }
  }

  /** The next message on `port` (the call replies, kernel-link.ts), parking while there is none; `spinUs` as in takeFrom. */
  take<T>(port: MessagePort, spinUs = -1): T {
    return this.takeFrom(() => receiveMessageOnPort(port)?.message as T | undefined, spinUs);
  }
}

/** Kernel side: wake a parked worker after posting to one of its ports or writing its ring. */
export function wake(cell: Int32Array): void {
  Atomics.add(cell, COUNTER, 1);
  // only the parked thread clears the flag. A waker that cleared it (to spare later wakers the
  // futex call) could do so late, after its item was taken and just before the thread parked
  // again: the next writer would then find the flag clear and never wake it (a bench run hung so)
  if (Atomics.load(cell, PARKED) === 1) Atomics.notify(cell, COUNTER);
}

/** Kernel side, once a worker is gone: free a seat it died holding (spin's finally never ran). */
export function releaseSpinSeat(spinners: Int32Array, spinId: number): void {
  for (let i = 1; i < spinners.length; i++) Atomics.compareExchange(spinners, i, spinId, 0);
}
