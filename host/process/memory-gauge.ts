// The process's memory as the homepage shows it: its wasm linear memories plus its worker's JS
// heap, written into two cells of the worker's shared signal buffer (KiB) when the worker is
// about to park, at most once a second. The kernel reads them any time without a message; an
// idle process costs nothing, a busy one one Date.now() per park. (Node 20 has no per-worker
// RSS, and Worker.getHeapStatistics() arrives only in Node 22.) The heap figure is
// process.memoryUsage()'s, which is this worker's isolate: node:v8 is not loaded into workers
// (its modules cost every worker boot time and heap).
import { HEAP_KIB, WASM_KIB } from './park.js';
import type { WasmMemory } from './memory-verdict.js';

const EVERY_MS = 1000;

export class MemoryGauge {
  private readonly cell: Int32Array;
  private last = 0;

  constructor(signal: SharedArrayBuffer, private readonly memories: WasmMemory[]) {
    this.cell = new Int32Array(signal);
  }

  /** Write the figures now. */
  report(): void {
    this.last = Date.now();
    let wasm = 0;
    for (const m of this.memories) wasm += m.buffer.byteLength;
    Atomics.store(this.cell, WASM_KIB, Math.min(2 ** 31 - 1, Math.round(wasm / 1024)));
    Atomics.store(this.cell, HEAP_KIB, Math.min(2 ** 31 - 1, Math.round(process.memoryUsage().heapUsed / 1024)));
  }

  /** Write them if the last report is older than a second (called before each park). */
  maybeReport = (): void => {
    if (Date.now() - this.last >= EVERY_MS) this.report();
  };
}

/** Kernel side: the last figures a worker wrote, in bytes (zeros before its first report). */
export function readGauge(signal: Int32Array): { wasm: number; heap: number } {
  return { wasm: Atomics.load(signal, WASM_KIB) * 1024, heap: Atomics.load(signal, HEAP_KIB) * 1024 };
}
