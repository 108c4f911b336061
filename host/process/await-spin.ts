// How long a worker spins, inside a send-and-await or a blocking kernel call, before it parks
// (park.ts). Waking a parked thread costs the kernel an Atomics.notify and the worker a futex
// wake-up, tens of µs on a VM (docs/performance.md §17); a worker still spinning when the reply
// lands pays neither. The policy is adaptive and bounded: it spins about as long as recent
// replies took (a running average, with headroom), never longer than `capUs`, and not at all
// while replies take more than twice the cap (a slow module, a timer, a loaded machine: there,
// spinning would only take CPU from the threads doing the work), and it backs off after a spin
// that ran out or was descheduled (no spare core: a sleeping thread is woken sooner than one
// that spent its share spinning), skipping 1, 2, 4 ... 256 awaits before it tries again.
// Plain `receive` never spins:
// an idle process parks at once.

/** The default cap in µs; KINODE_AWAIT_SPIN_US overrides it (0: never spin, never poll). */
export const DEFAULT_SPIN_CAP_US = 200;

/** The cap the kernel hands each worker: KINODE_AWAIT_SPIN_US when set to a number ≥ 0. */
export function spinCapFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.KINODE_AWAIT_SPIN_US;
  if (v === undefined || v.trim() === '') return DEFAULT_SPIN_CAP_US;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`KINODE_AWAIT_SPIN_US must be a number of µs ≥ 0 (got ${JSON.stringify(v)})`);
  return Math.min(n, 10_000);
}

import { SPIN_HIT, SPIN_NONE, SPIN_PREEMPTED, SPIN_TIMEOUT, type SpinOutcome } from './park.js';

const MAX_SKIP = 256;

export class AwaitSpin {
  /** running average of how long an await took, in µs (0: none measured yet) */
  private avgUs = 0;
  /** awaits still to skip (back-off), and how many the next failure skips */
  private skip = 0;
  private nextSkip = 1;

  constructor(private readonly capUs: number) {}

  /** µs to spin for the next await. */
  budget(): number {
    const cap = this.capUs;
    if (cap <= 0) return 0;
    if (this.skip > 0) {
      this.skip--;
      return 0;
    }
    const avg = this.avgUs;
    if (avg === 0) return cap;
    // a parked await's time includes its wake-up: allow for it before giving up on spinning
    if (avg > 2 * cap) return 0;
    return Math.min(cap, avg * 1.5 + 10);
  }

  /** An await took `us` µs from its send to its reply; its spin ended with `outcome`. */
  record(us: number, outcome: SpinOutcome = SPIN_NONE): void {
    if (outcome === SPIN_HIT) {
      this.nextSkip = 1;
    } else if (outcome === SPIN_TIMEOUT || outcome === SPIN_PREEMPTED) {
      this.skip = this.nextSkip;
      this.nextSkip = Math.min(MAX_SKIP, this.nextSkip * 2);
    }
    // weight 1/8: one slow reply does not switch spinning off, a run of them does
    this.avgUs = this.avgUs === 0 ? us : this.avgUs + (us - this.avgUs) / 8;
  }
}
