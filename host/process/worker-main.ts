// Entry point of a process worker: instantiate the component with `standard` and WASI,
// run init(our), and report how it ended. The kernel decides what happens next (on-exit).

import { parentPort } from 'node:worker_threads';
import { addrStr } from '../kernel/address.js';
import type { WorkerInit } from './wire-protocol.js';
import { KernelLink } from './kernel-link.js';
import { ProcessHost } from './process-host.js';
import { setupWasi } from './wasi.js';
import { loadGlue, type LoadedGlue } from './glue-loader.js';
import { wasmLimitText, type WasmMemory } from './memory-verdict.js';
import { MemoryGauge } from './memory-gauge.js';

const { Instance, Memory } = WebAssembly as unknown as {
  Instance: new (m: WebAssembly.Module, imports?: unknown) => { exports: Record<string, unknown> };
  Memory: abstract new (...a: never[]) => WasmMemory;
};

async function run(init: WorkerInit, compiled: Promise<Record<string, WebAssembly.Module>>): Promise<void> {
  const link = new KernelLink(init.signal, init.inRing, init.outRing, init.inbox, init.replies, init.outbox, init.spinCapUs, init.spinners, init.spinId, init.our);
  const host = new ProcessHost(link, init.our, init.generation, init.onExit, init.verbosity);
  let instance: { init(our: string): void };
  // the memories of the core instances, to tell a trap at the memory cap (memory-verdict.ts)
  const memories: WasmMemory[] = [];
  const wasi = await setupWasi(init.tmpDir, init.importKeys);
  let glue: LoadedGlue;
  try {
    glue = await loadGlue(init.jsPath);
    // compiled by the kernel while the glue loaded here (kernel.ts run)
    const coreModules = await compiled;
    const imports: Record<string, unknown> = {};
    for (const key of init.importKeys) {
      imports[key] = key === 'kinode:process/standard' ? withFirstReceive(host.imports(), () => glue.saveCodeCache()) : wasi.imports[key];
    }
    instance = glue.instantiate((name) => {
      const m = coreModules[name];
      if (!m) throw new Error(`missing core module ${name}`);
      return m;
    }, imports, (module, coreImports) => {
      const inst = new Instance(module, coreImports);
      for (const v of Object.values(inst.exports)) if (v instanceof Memory) memories.push(v);
      return inst;
    });
  } catch (e) {
    link.post({ t: 'ended', outcome: 'failed-to-instantiate', detail: String((e as Error)?.message ?? e) });
    return link.holdUntilTerminated();
  }
  link.post({ t: 'started' });
  const gauge = new MemoryGauge(init.signal, memories);
  gauge.report();
  // the glue's code cache (written by the first start of a component) waits for the first
  // receive or park, so it covers init's code too. No GC here: the start's garbage sits in the
  // new space it was allocated in (kernel/worker-pool.ts, WORKER_MIN_SEMI_SPACE_MB), and a full
  // GC would only move the survivors into fresh old-space pages (docs/performance.md §29)
  let booting = true;
  link.beforePark(() => {
    if (booting) {
      booting = false;
      glue.saveCodeCache();
      gauge.report();
      // the start is over: the pool may boot the spare's replacement now (kernel/worker-pool.ts)
      link.post({ t: 'booted' });
    }
    gauge.maybeReport();
  });
  try {
    instance.init(addrStr(init.our));
    glue.saveCodeCache(); // a process that never parked (here and below)
    link.post({ t: 'ended', outcome: 'returned', detail: '' });
  } catch (e) {
    glue.saveCodeCache();
    const stderr = wasi.stderrText();
    const cause = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const limit = wasmLimitText(memories, init.maxMemoryBytes, stderr);
    const detail = stderr.length > 0 ? stderr : cause;
    link.post({ t: 'ended', outcome: 'trapped', detail: limit ? `${limit}\n${detail}` : detail });
  }
  link.holdUntilTerminated();
}

/** `std` whose `receive` first calls `first` (once), then receives. */
function withFirstReceive(std: Record<string, (...args: never[]) => unknown>, first: () => void): Record<string, (...args: never[]) => unknown> {
  const receive = std.receive;
  if (!receive) return std;
  let pending = true;
  return {
    ...std,
    receive: (...args: never[]) => {
      if (pending) {
        pending = false;
        first();
      }
      return receive(...args);
    },
  };
}

/**
 * How long a booted worker waits for its process before it takes itself for a spare. A start
 * posts its WorkerInit right after `new Worker()` (kernel/worker-pool.ts `take`), so a worker
 * booted for a start finds it queued at its first turn; only a spare waits longer.
 */
const SPARE_AFTER_MS = 20;

/**
 * A spare's one full GC while it waits: its boot garbage (a few MiB, in 4 MiB semi-spaces,
 * kernel/worker-pool.ts) would otherwise fill the new space, and the process started on it would
 * pay a scavenge and fresh pages on its start path (measured: Rust warm start +10 ms). A worker
 * booted for a waiting start skips it: there the GC is CPU a storm of starts does not have
 * (docs/performance.md §29). `gc` is a global here because the pool set --expose-gc before
 * starting workers.
 */
function collectSpareGarbage(): void {
  const { gc } = globalThis as { gc?: () => void };
  if (typeof gc === 'function') gc();
}

// Booted ahead of need (see kernel/worker-pool.ts): wait for a process.
// The core modules come with it, or in the next message when they were still compiling.
let waiting = true;
setTimeout(() => {
  if (waiting) collectSpareGarbage();
}, SPARE_AFTER_MS).unref();
parentPort!.once('message', (init: WorkerInit) => {
  waiting = false;
  const compiled =
    init.coreModules !== undefined
      ? Promise.resolve(init.coreModules)
      : new Promise<Record<string, WebAssembly.Module>>((resolve) =>
          parentPort!.once('message', (m: { coreModules: Record<string, WebAssembly.Module> }) => resolve(m.coreModules)),
        );
  void run(init, compiled);
});
