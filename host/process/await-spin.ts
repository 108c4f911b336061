// How long a worker spins, inside a send-and-await or a blocking kernel call, before it parks
// (park.ts). Waking a parked thread costs the kernel an Atomics.notify and the worker a futex
// wake-up, tens of µs on a VM (docs/performance.md §17); a worker still spinning when the reply
// lands pays neither. The policy is adaptive and bounded: it spins about as long as recent
// replies took (a running average, with headroom), never longer than `capUs`, and not at all
// while replies take more than twice the cap (a slow module, a timer, a loaded machine: there,
// spinning would only take CPU from the threads doing the work), and it backs off after a spin
// that ran out or was descheduled (no spare core: a sleeping thread is woken sooner than one
// that spent its share spinning), skipping 1, 2, 4 ... 256 awaits before it tries again.
//
// Two kinds of await in turn (docs/performance.md §24): a serial loop usually alternates a slow
// step and a fast one — process_lib's File::write then File::read, where on ext4 the write's
// truncate waits for the last write's writeback (300 µs and more) and the read takes tens of µs.
// One running average over both hid the fast one (the mean ran above twice the cap, so neither
// spun) or wasted spins on the slow one (each ran out, and the back-off then skipped the fast
// one too). So the awaits are tracked in two sets, by what came before: those that follow an
// await shorter than the running average of all awaits, and those that follow a longer one.
// A loop of alternating kinds then has one kind in each set, each with its own average and
// back-off; a loop of one kind spreads over both sets alike and behaves as one average did.
// A set whose awaits are regular (their mean deviation within a quarter of their mean) may
// spin up to twice the cap, so that a slow but steady step (an ext4 write of ~300 µs) is
// caught as well; an irregular one keeps to the cap.
// Plain `receive` never spins: an idle process parks at once.

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
/** weight of a new sample in the running averages: one odd await does not switch spinning off, a run of them does */
const WEIGHT = 1 / 8;

/** The awaits of one set: their running average and mean deviation, and the set's back-off. */
class Track {
  /** µs (0: none measured yet) */
  avgUs = 0;
  devUs = 0;
  /** awaits still to skip, and how many the next failure skips */
  skip = 0;
  nextSkip = 1;

  budget(cap: number): number {
    if (this.skip > 0) {
      this.skip--;
      return 0;
    }
    const avg = this.avgUs;
    if (avg === 0) return cap;
    // a parked await's time includes its wake-up: allow for it before giving up on spinning
    if (avg > 2 * cap) return 0;
    // regular awaits may spin through their expected time and spread up to twice the cap
    const limit = this.devUs * 4 <= avg ? 2 * cap : cap;
    return Math.min(limit, Math.max(avg * 1.5, avg + 2 * this.devUs) + 10);
  }

  record(us: number, outcome: SpinOutcome): void {
    if (outcome === SPIN_HIT) {
      this.nextSkip = 1;
    } else if (outcome === SPIN_TIMEOUT || outcome === SPIN_PREEMPTED) {
      this.skip = this.nextSkip;
      this.nextSkip = Math.min(MAX_SKIP, this.nextSkip * 2);
    }
    if (this.avgUs === 0) {
      this.avgUs = us;
      return;
    }
    this.devUs += (Math.abs(us - this.avgUs) - this.devUs) * WEIGHT;
    this.avgUs += (us - this.avgUs) * WEIGHT;
  }
}

export class AwaitSpin {
  /** [0]: awaits that follow a short one, [1]: awaits that follow a long one */
  private readonly tracks = [new Track(), new Track()] as const;
  /** running average of every await in µs: the line between short and long */
  private allUs = 0;
  /** the set the next await belongs to */
  private track: Track = this.tracks[0];

  constructor(private readonly capUs: number) {}

  /** µs to spin for the next await. */
  budget(): number {
    const cap = this.capUs;
    if (cap <= 0) return 0;
    return this.track.budget(cap);
  }

  /** An await took `us` µs from its send to its reply; its spin ended with `outcome`. */
  record(us: number, outcome: SpinOutcome = SPIN_NONE): void {
    this.track.record(us, outcome);
    const long = this.allUs !== 0 && us > this.allUs;
    this.allUs = this.allUs === 0 ? us : this.allUs + (us - this.allUs) * WEIGHT;
    this.track = this.tracks[long ? 1 : 0];
  }
}
