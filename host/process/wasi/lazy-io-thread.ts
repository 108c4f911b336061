// preview2-shim starts its synchronous-I/O helper thread (a second worker, ~8 MiB) the moment
// its I/O module is imported, although a kit-built process that only prints, reads clocks and
// random numbers, and writes stdout/stderr (which the shim does in the calling thread) never
// calls into it. This loads the shim with a stand-in `Worker` that starts the real helper on the
// first call that needs it (a file opened, a sleep, stdin read), so an idle process is one thread.
// The stand-in is visible only while the shim's modules evaluate: `Worker` is restored after.

import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Worker as RealWorkerType, WorkerOptions } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const wt = require('node:worker_threads') as { Worker: typeof RealWorkerType };

/** How many helper threads this worker has started (0 for a process that never did file I/O). */
export let helperThreadsStarted = 0;

type Listener = (...args: unknown[]) => void;

/** Just what synckit (the shim's createSyncFn) uses: on, unref, postMessage. */
function lazyWorkerClass(Real: typeof RealWorkerType): unknown {
  return class LazyWorker {
    private real: RealWorkerType | undefined;
    private readonly listeners: Array<[string, Listener]> = [];
    private unrefd = false;

    constructor(
      private readonly url: string | URL,
      private readonly options: WorkerOptions,
    ) {}

    private worker(): RealWorkerType {
      if (!this.real) {
        helperThreadsStarted++;
        const w = new Real(this.url, this.options);
        for (const [ev, fn] of this.listeners) w.on(ev, fn);
        if (this.unrefd) w.unref();
        this.real = w;
      }
      return this.real;
    }

    on(ev: string, fn: Listener): this {
      if (this.real) this.real.on(ev, fn);
      else this.listeners.push([ev, fn]);
      return this;
    }

    unref(): void {
      this.unrefd = true;
      this.real?.unref();
    }

    ref(): void {
      this.unrefd = false;
      this.real?.ref();
    }

    postMessage(m: unknown, transfer?: readonly unknown[]): void {
      this.worker().postMessage(m, transfer as never);
    }

    terminate(): Promise<number> {
      return this.real ? this.real.terminate() : Promise.resolve(0);
    }
  };
}

/** Import `load` (the shim's modules) with the lazy helper thread in place of worker_threads' Worker. */
export async function withLazyIoThread<T>(load: () => Promise<T>): Promise<T> {
  const Real = wt.Worker;
  wt.Worker = lazyWorkerClass(Real) as typeof RealWorkerType;
  syncBuiltinESMExports();
  try {
    return await load();
  } finally {
    wt.Worker = Real;
    syncBuiltinESMExports();
  }
}
