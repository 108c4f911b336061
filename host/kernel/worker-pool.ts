// Process workers started ahead of need: a spare worker has already booted and loaded the
// WASI shim, so starting a process costs only importing its component and instantiating it.
// Each worker's JS heap is limited to --max-process-memory (V8 ends a worker past it with
// ERR_WORKER_OUT_OF_MEMORY; process-slot.ts reports that as the process's end).

import { existsSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * The worker's entry: the one-file CommonJS bundle of it (scripts/bundle-worker.mjs; boots with
 * ~1 MiB less and less CPU than the ES module graph) when it is newer than tsc's output, else
 * the ES module itself.
 */
function workerMain(): URL {
  const esm = new URL('../process/worker-main.js', import.meta.url);
  const cjs = new URL('../process/worker-main.cjs', import.meta.url);
  try {
    if (existsSync(cjs) && statSync(cjs).mtimeMs >= statSync(esm).mtimeMs) return cjs;
  } catch {
    // no bundle to trust
  }
  return esm;
}

const WORKER_MAIN = workerMain();

/**
 * Every worker's young generation starts with 4 MiB semi-spaces instead of V8's 1 MiB. A
 * worker's boot (Node's bootstrap, our bundle, the glue, instantiate, init) allocates a few MiB:
 * in 1 MiB semi-spaces that took three or four scavenges, each promoting boot objects into
 * old-space pages, and the idle process then kept them (a full GC at the first park got some
 * back for ~5 ms of CPU). With 4 MiB the boot runs with at most one scavenge and its garbage
 * stays in the new space it was allocated in: per idle Rust process ~0.45 MiB less RSS and
 * ~10 ms less CPU than 1 MiB + the boot GC (docs/performance.md §29; 3 / 6 / 8 MiB measured
 * alike or worse). V8 reads the flag when it sets up a heap, so this thread's heap, set up
 * before, keeps V8's default; V8 flags are process-wide, so it is set once, before the first
 * worker.
 */
const WORKER_MIN_SEMI_SPACE_MB = 4;
let heapFlagsSet = false;
function setWorkerHeapFlags(): void {
  if (heapFlagsSet) return;
  heapFlagsSet = true;
  try {
    // --expose-gc gives `gc` to every context created after it is set: the workers' (a spare
    // collects its boot garbage while it waits, process/worker-main.ts), not this thread's
    setFlagsFromString('--expose-gc');
  } catch {
    // spares then keep their boot garbage until V8 collects it
  }
  try {
    setFlagsFromString(`--min-semi-space-size=${WORKER_MIN_SEMI_SPACE_MB}`);
  } catch {
    // workers then start with V8's default semi-space
  }
}

/**
 * The longest a taken spare waits for its replacement: the replacement boots once a start is
 * over — its process has printed, first waited for a message or ended (`settled`) — or after
 * this long if it never is (a process computing for seconds must not leave the pool empty).
 */
export const REFILL_MAX_WAIT_MS = 1000;

export interface PoolLimits {
  /** the JS heap (old generation) limit of every worker; V8's default when undefined */
  maxMemoryBytes?: number | undefined;
}

/** What a start tells the pool (ProcessSlot holds it). */
export interface BootTicket {
  /** the process has printed, first waited for a message, or ended: its start is over */
  settled(): void;
}

export class WorkerPool {
  private readonly spares: Worker[] = [];
  private stopped = false;
  /** a spare was taken and not yet replaced; the timer replaces it at the latest */
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly size = 1,
    readonly limits: PoolLimits = {},
  ) {}

  private spawn(): Worker {
    setWorkerHeapFlags();
    const max = this.limits.maxMemoryBytes;
    // the process's own stdout/stderr are handled inside the worker (discarded / captured)
    const w = new Worker(WORKER_MAIN, {
      stdout: true,
      stderr: true,
      ...(max !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: Math.max(16, Math.floor(max / 2 ** 20)) } } : {}),
    });
    w.on('error', () => {}); // a spare that dies is simply not used
    w.unref();
    return w;
  }

  fill(): void {
    while (!this.stopped && this.spares.length < this.size) this.spares.push(this.spawn());
  }

  /**
   * A booted spare (or a new worker when none is left) for a start. Its replacement waits until
   * a start is over (the ticket's `settled`), at most REFILL_MAX_WAIT_MS: booting one at once
   * (~100 ms of CPU) competed with the start it was taken for on the same two cores, and a
   * componentize-js start is busy for hundreds of ms (docs/performance.md §8, §20). The worker
   * tells when its process first waits (`booted`), so no timer polls for it (§25).
   */
  take(): { worker: Worker; ticket: BootTicket } {
    const w = this.spares.shift() ?? this.spawn();
    w.removeAllListeners('error');
    w.ref();
    if (!this.stopped && this.spares.length < this.size && !this.refillTimer) {
      this.refillTimer = setTimeout(() => this.refillNow(), REFILL_MAX_WAIT_MS).unref();
    }
    return { worker: w, ticket: { settled: () => this.refillNow() } };
  }

  private refillNow(): void {
    if (!this.refillTimer) return;
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    // on the next turn: not inside the message handler that noticed the print
    setImmediate(() => this.fill());
  }

  /**
   * Every spare has booted: its event loop has gone idle at least once, so its script has run
   * (a bench waits for this before timing a start, rather than guessing how long a boot takes).
   */
  ready(): boolean {
    return this.spares.length >= this.size && this.spares.every((w) => w.performance.eventLoopUtilization().idle > 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refillTimer);
    await Promise.all(this.spares.splice(0).map((w) => w.terminate()));
  }
}
