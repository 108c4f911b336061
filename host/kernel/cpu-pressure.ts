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

export class CpuPressure {
  private nextRead = 0;
  private spare = true;
  private missing = false;

  /** `cell[index]` is set to 1 while the machine is contended (the workers read it before spinning). */
  constructor(
    private readonly cell: Int32Array,
    private readonly index: number,
  ) {}

  /** True while spinning may pay (refreshing the verdict when it is older than REFRESH_MS). */
  hasSpareCore(): boolean {
    if (this.missing) return true;
    const now = performance.now();
    if (now < this.nextRead) return this.spare;
    this.nextRead = now + REFRESH_MS;
    let text: string;
    try {
      text = readFileSync(FILE, 'latin1');
    } catch {
      this.missing = true;
      return true;
    }
    const m = /^some avg10=([\d.]+)/m.exec(text);
    this.spare = m === null || Number(m[1]) <= MAX_SOME_AVG10;
    Atomics.store(this.cell, this.index, this.spare ? 0 : 1);
    return this.spare;
  }
}
