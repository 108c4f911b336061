// WASI for one process. The lean layer (wasi/imports.ts: plain JS, sync node:fs in the worker,
// no helper thread) serves every process except one importing wasi:sockets, which gets
// preview2-shim (wasi/shim.ts), loaded into that worker only: the shim's sockets hand out the
// shim's own streams, so its whole WASI must come from it.

import { leanWasi } from './wasi/imports.js';

export interface ProcessWasi {
  imports: Record<string, unknown>;
  /** what the process wrote to stderr (the first 5000 bytes), for the crash report */
  stderrText(): string;
}

export async function setupWasi(tmpDir: string | undefined, importKeys: string[]): Promise<ProcessWasi> {
  if (importKeys.some((k) => k.startsWith('wasi:sockets/'))) {
    const { shimWasi } = await import('./wasi/shim.js');
    return shimWasi(tmpDir, importKeys);
  }
  return leanWasi(tmpDir);
}
