// Process workers started ahead of need: a spare worker has already booted and loaded the
// WASI shim, so starting a process costs only importing its component and instantiating it.
// Each worker's JS heap is limited to --max-process-memory (V8 ends a worker past it with
// ERR_WORKER_OUT_OF_MEMORY; process-slot.ts reports that as the process's end).

import { Worker } from 'node:worker_threads';

const WORKER_MAIN = new URL('../process/worker-main.js', import.meta.url);

export interface PoolLimits {
  /** the JS heap (old generation) limit of every worker; V8's default when undefined */
  maxMemoryBytes?: number | undefined;
}

export class WorkerPool {
  private readonly spares: Worker[] = [];
  private stopped = false;

  constructor(
    private readonly size = 1,
    readonly limits: PoolLimits = {},
  ) {}

  private spawn(): Worker {
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

  take(): Worker {
    const w = this.spares.shift() ?? this.spawn();
    w.removeAllListeners('error');
    w.ref();
    if (!this.stopped) setImmediate(() => this.fill());
    return w;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.spares.splice(0).map((w) => w.terminate()));
  }
}
