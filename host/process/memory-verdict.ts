// Telling a process that ended at its memory cap (--max-process-memory) from other ends, so the
// kernel can print a clear reason. Wasm memories carry the cap as their declared maximum
// (loader/memory-limit.ts): a grow past it fails, and the process's allocator then traps — Rust
// prints `memory allocation of N bytes failed` first. The worker's JS heap has the same limit
// (kernel/worker-pool.ts); V8 ends a worker that passes it.

const PAGE = 65536;
const MiB = 2 ** 20;

const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

export function limitName(maxBytes: number | undefined): string {
  return `--max-process-memory ${maxBytes === undefined ? 'unset' : `${Math.round(maxBytes / MiB)} MiB`}`;
}

export function heapLimitText(maxBytes: number | undefined): string {
  return `exceeded the process memory limit (${limitName(maxBytes)}): the JavaScript heap of its worker`;
}

/**
 * After a trap: the reason text if the process hit the wasm memory cap, else undefined. `memories`
 * are the memories its core instances export; `stderr` what it wrote before trapping.
 */
/** A wasm memory as far as we look at it (the typings we build with lack WebAssembly.Memory). */
export interface WasmMemory {
  buffer: ArrayBuffer;
}

export function wasmLimitText(memories: WasmMemory[], maxBytes: number | undefined, stderr: string): string | undefined {
  if (maxBytes === undefined || memories.length === 0) return undefined;
  const cap = Math.max(1, Math.floor(maxBytes / PAGE)) * PAGE;
  const size = Math.max(...memories.map((m) => m.buffer.byteLength));
  const failed = /memory allocation of (\d+) bytes failed/.exec(stderr);
  // at the cap already (allocators grow in chunks: SpiderMonkey by 1 MiB, so "at the cap" is
  // within a margin of it), or an allocation that would have taken it past the cap
  const atCap = size + Math.max(2 * MiB, cap / 16) > cap;
  const wouldPass = failed !== null && size + Number(failed[1]) > cap;
  if (!atCap && !wouldPass) return undefined;
  return (
    `exceeded the process memory limit (${limitName(maxBytes)}): wasm memory ${mib(size)}` +
    (failed ? `, an allocation of ${mib(Number(failed[1]))} failed` : ', growing it failed')
  );
}
