// Compiles the core wasm modules of a transpiled component for the process workers, touching as
// little fresh memory as possible: on the machines this runs on (virtualized, shared), faulting
// in fresh pages is most of what compiling the 12 MB SpiderMonkey module of a componentize-js
// process costs (docs/performance.md, "JS start"). The modules jco writes into the cache are
// byte-for-byte slices of the component, which the kernel has just read into memory to hash
// it; their places are recorded at transpile time (meta.json `cores`) and a warm start compiles
// those slices instead of reading the files again. Compiling copies its input, so the only
// fresh copy left is V8's own.

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { limitMemoriesInPlace } from './memory-limit.js';
import { compileTrusted, compileValidating } from './compile-gate.js';

/** Core module file name → [offset, length] of the same bytes in the component. */
export type CoreRanges = Record<string, [offset: number, length: number]>;

/**
 * Bytes kept free in front of a core module read from its file: the memory cap's rewrite of the
 * memory section (a few bytes longer) is made in place instead of in a copy of the module.
 */
const ROOM = 64;

/** Where each core module file lies in the component (those found; recorded at transpile time). */
export function coreRanges(component: Uint8Array, files: Record<string, Uint8Array>): CoreRanges {
  const haystack = Buffer.from(component.buffer, component.byteOffset, component.byteLength);
  const ranges: CoreRanges = {};
  for (const [name, bytes] of Object.entries(files)) {
    if (!name.endsWith('.wasm') || bytes.length === 0) continue;
    // any place holding the same bytes will do: the slice is what gets compiled
    const at = haystack.indexOf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (at >= 0) ranges[name] = [at, bytes.length];
  }
  return ranges;
}

const isModuleAt = (b: Uint8Array, at: number): boolean => b[at] === 0 && b[at + 1] === 0x61 && b[at + 2] === 0x73 && b[at + 3] === 0x6d;

/**
 * Compile the core modules `names` of the cache entry `dir`, each with its memories capped at
 * `maxPages` (none when undefined); `trusted`: these bytes compiled before with every function body
 * validated (compile-gate.ts). `component` is consumed: the bytes in front of a slice
 * (the component's own headers, or modules already compiled) may be overwritten by the cap's
 * rewrite, so the caller must not use them afterwards.
 */
export async function compileCoreModules(
  dir: string,
  names: string[],
  component: Uint8Array,
  ranges: CoreRanges | undefined,
  maxPages: number | undefined,
  trusted: boolean,
): Promise<Record<string, WebAssembly.Module>> {
  const compile = trusted ? compileTrusted : compileValidating;
  const fromComponent: Array<[name: string, at: number, length: number]> = [];
  const fromFile: string[] = [];
  for (const name of names) {
    const r = ranges?.[name];
    if (r && r[0] >= 0 && r[1] > 8 && r[0] + r[1] <= component.length && isModuleAt(component, r[0])) fromComponent.push([name, r[0], r[1]]);
    else fromFile.push(name);
  }
  const modules: Record<string, WebAssembly.Module> = {};
  // ascending offsets: the room a rewrite takes in front of a slice is never a slice to come
  fromComponent.sort((a, b) => a[1] - b[1]);
  let floor = 0;
  for (const [name, at, length] of fromComponent) {
    if (at < floor) {
      // overlaps a slice compiled before (two files with the same bytes): that one's rewrite
      // may have changed these bytes, the file has them as they are
      fromFile.push(name);
      continue;
    }
    const bytes =
      maxPages === undefined ? component.subarray(at, at + length) : limitMemoriesInPlace(component.subarray(floor, at + length), at - floor, maxPages);
    // compile copies the bytes before it returns, so the slice may be room for the next one
    modules[name] = await compile(bytes);
    floor = at + length;
  }
  for (const name of fromFile) {
    const buf = await readWithRoom(join(dir, name), ROOM);
    modules[name] = await compile(maxPages === undefined ? buf.subarray(ROOM) : limitMemoriesInPlace(buf, ROOM, maxPages));
  }
  return modules;
}

/**
 * The file in one read into a buffer with `room` free bytes in front of it: one allocation,
 * not touched before the read fills it (readFile's result patched into a copy would be a
 * second fresh 12 MB for a SpiderMonkey module).
 */
async function readWithRoom(path: string, room: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafeSlow(room + size);
    buf.fill(0, 0, room);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(buf, room + got, size - got, got);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while being read`);
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
