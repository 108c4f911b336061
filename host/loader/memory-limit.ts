// The per-process memory cap (--max-process-memory) for wasm linear memory: each memory a core
// module defines gets a declared maximum of the cap, so a `memory.grow` past it fails (returns
// -1, as when the engine is out of memory) and the process's allocator reports the failure and
// traps, in that process only. Patched into the bytes just before they are compiled (the cache
// on disk keeps the modules as jco wrote them; the cap is a per-node setting).
// Imported memories are left alone: they are the memory of the module that defines them.

const PAGE = 65536;
const MEMORY_SECTION = 5;

function readU32(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const byte = b[at++];
    if (byte === undefined) throw new Error('truncated LEB128');
    v += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [v, at];
    shift += 7;
    if (shift > 35) throw new Error('LEB128 too long');
  }
}

function writeU32(v: number, out: number[]): void {
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Pages of the cap (at least one). */
export const capPages = (maxBytes: number): number => Math.max(1, Math.floor(maxBytes / PAGE));

/**
 * The module with each defined 32-bit, unshared memory limited to `maxPages` (or its initial
 * size, if larger: such a module then cannot grow at all). Unchanged bytes when there is nothing
 * to limit; bytes it cannot parse are returned unchanged for the compiler to judge.
 */
export function limitMemories(bytes: Uint8Array, maxPages: number): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return bytes;
  try {
    let at = 8;
    while (at < bytes.length) {
      const id = bytes[at]!;
      const [size, contentAt] = readU32(bytes, at + 1);
      const end = contentAt + size;
      if (id !== MEMORY_SECTION) {
        at = end;
        continue;
      }
      const body: number[] = [];
      let [count, p] = readU32(bytes, contentAt);
      writeU32(count, body);
      for (; count > 0; count--) {
        const flags = bytes[p++]!;
        if (flags !== 0 && flags !== 1) return bytes; // shared or 64-bit: not ours to touch
        let min: number;
        [min, p] = readU32(bytes, p);
        let max: number | undefined;
        if (flags === 1) [max, p] = readU32(bytes, p);
        const limit = Math.max(min, Math.min(max ?? Infinity, maxPages));
        body.push(1);
        writeU32(min, body);
        writeU32(limit, body);
      }
      if (p !== end) return bytes;
      const head: number[] = [MEMORY_SECTION];
      writeU32(body.length, head);
      const out = new Uint8Array(at + head.length + body.length + (bytes.length - end));
      out.set(bytes.subarray(0, at), 0);
      out.set(head, at);
      out.set(body, at + head.length);
      out.set(bytes.subarray(end), at + head.length + body.length);
      return out;
    }
  } catch {
    // malformed: compile the original and let WebAssembly report it
  }
  return bytes;
}
