// Whether the machine has a spare core right now, for the serial-await spin and poll
// (process/await-spin.ts, kernel/await-poll.ts). Spinning only pays while no thread waits for a
// CPU: on a busy machine a thread that sleeps is woken sooner by the scheduler than one that
// spent its share spinning, and the spinner takes CPU from the threads doing the work (measured
// in docs/performance.md §17: with the load average at 8–14 on 2 cores, spinning and polling
// cut serial vfs pairs by a third to a half). Linux's pressure-stall information says it directly:
// `some avg10` in /proc/pressure/cpu is the share of the last 10 s in which at least one runnable
// thread waited for a CPU. Read at most every REFRESH_MS, lazily (no timer: an idle node does
// nothing); where the file is missing (not Linux, or a kernel without PSI) the answer is yes and
// the spin's own back-off (a spin that finds itself descheduled) is the only guard.
// The verdict uses the share of the time since the last read (from the file's cumulative
// `total` of stalled µs) when that read is recent (≤ 10 s), and `avg10` only otherwise: avg10 is
// a 10-second running average, so after a burst of work (another bench section's floods, a
// build) it stayed above the line for seconds after the cores were free again, and a serial
// loop that started then ran without its spin (docs/performance.md §24). A verdict of "spare"
// needs two such reads in a row (about a second of quiet), one contended read shuts it.

import { readFileSync } from 'node:fs';

const FILE = '/proc/pressure/cpu';
const REFRESH_MS = 500;
/**
 * Above this share (%) of time with a thread waiting for a CPU, nobody spins. A serial await
 * loop's own threads keep `some avg10` at 8–37 % on 2 cores; an overloaded machine (load 8–50)
 * showed 94–98 %. At 20 the gate shut the spin off against the node's own work and the serial
 * vfs pair lost its gain (docs/performance.md §17).
 */
const MAX_SOME_AVG10 = 60;

/** the longest gap between two reads over which the stalled share is measured (else avg10) */
const MAX_WINDOW_MS = 10_000;

export class CpuPressure {
  private nextRead = 0;
  private spare = true;
  private missing = false;
  /** the cumulative stalled µs of `some` at the last read, and when (ms); -1: none yet */
  private lastTotal = -1;
  private lastAt = 0;
  /** the share (%) the last read found: a verdict of "spare" needs two quiet reads in a row */
  private lastShare = 0;

  /** `cell[index]` is set to 1 while the machine is contended (the workers read it before spinning). */
  constructor(
    private readonly cell: Int32Array,
    private readonly index: number,
    /** the pressure file's text (tests give their own) */
    private readonly read: () => string = () => readFileSync(FILE, 'latin1'),
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** True while spinning may pay (refreshing the verdict when it is older than REFRESH_MS). */
  hasSpareCore(): boolean {
    if (this.missing) return true;
    const now = this.clock();
    if (now < this.nextRead) return this.spare;
    this.nextRead = now + REFRESH_MS;
    let text: string;
    try {
      text = this.read();
    } catch {
      this.missing = true;
      return true;
    }
    const m = /^some avg10=([\d.]+).*?total=(\d+)/m.exec(text);
    if (m === null) {
      this.spare = true;
    } else {
      const total = Number(m[2]);
      const window = now - this.lastAt;
      // stalled µs over elapsed µs since the last read, in %
      const share =
        this.lastTotal >= 0 && total >= this.lastTotal && window > 0 && window <= MAX_WINDOW_MS
          ? ((total - this.lastTotal) / (window * 1000)) * 100
          : Number(m[1]);
      this.lastTotal = total;
      this.lastAt = now;
      // two reads in a row (about a second): one quiet half second amid a loaded minute is not a spare core
      this.spare = share <= MAX_SOME_AVG10 && this.lastShare <= MAX_SOME_AVG10;
      this.lastShare = share;
    }
    Atomics.store(this.cell, this.index, this.spare ? 0 : 1);
    return this.spare;
  }
}
