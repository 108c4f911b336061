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
  const link = new KernelLink(init.signal, init.inRing, init.outRing, init.inbox, init.replies, init.outbox, init.spinCapUs, init.spinners, init.spinId);
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
  // receive or park, so it covers init's code too. No GC here: the boot's garbage sits in the
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

// Booted ahead of need (see kernel/worker-pool.ts): wait for a process.
// The core modules come with it, or in the next message when they were still compiling.
parentPort!.once('message', (init: WorkerInit) => {
  const compiled =
    init.coreModules !== undefined
      ? Promise.resolve(init.coreModules)
      : new Promise<Record<string, WebAssembly.Module>>((resolve) =>
          parentPort!.once('message', (m: { coreModules: Record<string, WebAssembly.Module> }) => resolve(m.coreModules)),
        );
  void run(init, compiled);
});
