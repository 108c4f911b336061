// Kernel side of a process's serial awaits: after the kernel hands a reply to a worker that is
// inside a send-and-await or a blocking call, that worker's next send usually follows within
// µs (process_lib's File::write then File::read, a kv get after a set...). A doorbell message
// for it would wake the main thread out of epoll, tens of µs on a VM (docs/performance.md §17).
// Instead the kernel keeps its event loop turning for a short while (a setImmediate chain: other
// I/O and timers still run between turns, nothing is blocked) and watches the worker's
// doorbell cell; the worker, seeing POLLING set, rings by the cell alone (kernel-link.ts).
//
// Bounded and adaptive per process: a poll lasts about as long as this worker's next send
// followed a reply lately (a running average of that gap, measured whether the poll caught the
// send or a doorbell message brought it later, with headroom), at most `capUs`, and no poll at
// all while the gap runs above twice the cap (a process whose await was its last act for a
// while). A poll that runs out, or whose turns come too far apart (the main thread is busy or
// the machine has no spare core: polling would only take CPU), makes the next 1, 2, 4 ... 256
// replies to this process start none. Nothing polls while the machine has no spare core. One poll per process at a time; it ends on the doorbell, the budget, or the process's end.

import { DOORBELL, POLLING } from '../process/park.js';

/** turns of the event loop further apart than this: the main thread is busy or descheduled */
const SLOW_TURN_US = 100;
const MAX_SKIP = 256;

export class AwaitPoll {
  private active = false;
  /** when the reply that started the current (or last) poll was handed over; 0 once its gap is measured */
  private t0 = 0;
  /** running average of the reply → next send gap in µs (0: none measured yet) */
  private gapUs = 0;
  private budgetUs = 0;
  private last = 0;
  /** replies still to pass without a poll (back-off), and how many the next failure skips */
  private skip = 0;
  private nextSkip = 1;
  /** polls that caught the next send / polls that ran out (observable through the kernel) */
  hits = 0;
  misses = 0;
  /** answers after which no poll ran: no spare core, backing off, or the gap runs too long */
  declined = 0;

  constructor(
    private readonly cell: Int32Array,
    private readonly capUs: number,
    /** drain the worker's out-ring (as on a doorbell message) */
    private readonly drain: () => void,
    private readonly ended: () => boolean,
    /** false while the machine has no spare core (cpu-pressure.ts): then no poll at all */
    private readonly spareCore: () => boolean = () => true,
  ) {
  }

  private budget(): number {
    const cap = this.capUs;
    const gap = this.gapUs;
    if (gap === 0) return cap;
    if (gap > 2 * cap) return 0;
    return Math.min(cap, gap * 1.5 + 10);
  }

  private record(): void {
    if (this.t0 === 0) return;
    const us = (performance.now() - this.t0) * 1000;
    this.t0 = 0;
    this.gapUs = this.gapUs === 0 ? us : this.gapUs + (us - this.gapUs) / 8;
  }

  /** A doorbell message arrived (the worker rang while no poll ran): measures the gap if a reply started one. */
  rang(): void {
    if (!this.active) this.record();
  }

  /** A reply was just handed to the worker: poll for its next send unless already polling. */
  start(): void {
    if (this.active || this.capUs <= 0) return;
    this.t0 = this.last = performance.now();
    if (!this.spareCore()) {
      this.declined++;
      return;
    }
    if (this.skip > 0) {
      this.skip--;
      this.declined++;
      return;
    }
    this.budgetUs = this.budget();
    if (this.budgetUs <= 0) {
      this.declined++; // the gap is still measured (rang)
      return;
    }
    this.active = true;
    Atomics.store(this.cell, POLLING, 1);
    setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    if (this.ended()) {
      this.active = false;
      return;
    }
    const cell = this.cell;
    const now = performance.now();
    const waited = (now - this.t0) * 1000;
    const turn = (now - this.last) * 1000;
    this.last = now;
    if (Atomics.load(cell, DOORBELL) === 1) {
      this.hits++;
      this.nextSkip = 1;
      this.record();
      this.stop();
      return;
    }
    if (waited < this.budgetUs && turn < SLOW_TURN_US) {
      setImmediate(this.tick);
      return;
    }
    this.misses++;
    this.skip = this.nextSkip;
    this.nextSkip = Math.min(MAX_SKIP, this.nextSkip * 2);
    this.stop(); // the gap is measured when the doorbell message comes (rang)
  };

  /** Clear POLLING first, then look at the flag once more: a worker that rang by the cell alone is drained here. */
  private stop(): void {
    this.active = false;
    const cell = this.cell;
    Atomics.store(cell, POLLING, 0);
    if (Atomics.load(cell, DOORBELL) === 1) {
      Atomics.store(cell, DOORBELL, 0);
      this.drain();
    }
  }
}
