// The process worker's entry as one CommonJS file (dist/host/process/worker-main.cjs), bundled
// from tsc's ES modules with rolldown. Every process is a worker thread that boots this code: one
// CJS file skips the ES module loader and its per-module records, measured ~1 MiB less RSS and
// ~25 ms less CPU per worker (docs/performance.md, "Lean WASI layer"). kernel/worker-pool.ts
// uses the bundle only when it is newer than worker-main.js, and the ES modules otherwise, so a
// missing rolldown (it comes with componentize-js's jco) or a bare `tsc` only costs that.

import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bundle unless the bundle is already newer than tsc's output; returns what it did. */
export async function bundleWorker(root) {
  const entry = join(root, 'dist', 'host', 'process', 'worker-main.js');
  const out = join(root, 'dist', 'host', 'process', 'worker-main.cjs');
  if (!existsSync(entry)) return 'no worker-main.js';
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(entry).mtimeMs) return 'up to date';
  let rolldown;
  try {
    rolldown = await import('rolldown');
  } catch {
    rmSync(out, { force: true });
    return 'rolldown not installed: process workers load the ES modules';
  }
  await rolldown.build({
    input: entry,
    platform: 'node',
    // builtins stay requires; preview2-shim stays a dynamic import (only a wasi:sockets process loads it)
    external: [/^node:/, /^@bytecodealliance\//],
    logLevel: 'warn',
    output: { format: 'cjs', file: out, codeSplitting: false, sourcemap: true },
  });
  return 'bundled';
}
