// File reads and writes on a process's start path (reading a package, writing it to its drive,
// the transpile cache's meta.json): small files synchronously, large ones through the thread
// pool. On the machines measured (a 2-vCPU microVM, shared) each `fs/promises` call is a round
// trip to a libuv thread and back through the event loop, 0.2–5 ms of wall time when the cores
// are busy, while reading or writing a 110 KB Rust component synchronously takes ~0.1 ms; a
// warm Rust start made ~20 such round trips (docs/performance.md §25). A 12 MB componentize-js
// module still goes through the pool, so the kernel thread never blocks for long.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** Files up to this size are read and written synchronously (as core-modules.ts compiles). */
export const SYNC_IO_MAX = 1 << 20;

/** The file's bytes (a Buffer of its own, as readFile gives); throws as readFile does. */
export async function readSmallFirst(path: string): Promise<Buffer> {
  return statSync(path).size <= SYNC_IO_MAX ? readFileSync(path) : readFile(path);
}

/** The file's text (utf8); throws as readFile does. */
export async function readTextSmallFirst(path: string): Promise<string> {
  return statSync(path).size <= SYNC_IO_MAX ? readFileSync(path, 'utf8') : readFile(path, 'utf8');
}

/** Write `bytes` to `path` (created or truncated). */
export async function writeSmallFirst(path: string, bytes: Uint8Array): Promise<void> {
  if (bytes.length <= SYNC_IO_MAX) writeFileSync(path, bytes);
  else await writeFile(path, bytes);
}
