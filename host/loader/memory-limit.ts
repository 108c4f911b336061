// The per-process memory cap (--max-process-memory) for wasm linear memory: each memory a core
// module defines gets a declared maximum of the cap, so a `memory.grow` past it fails (returns
// -1, as when the engine is out of memory) and the process's allocator reports the failure and
// traps, in that process only. Patched into the bytes just before they are compiled (the cache
// on disk keeps the modules as jco wrote them; the cap is a per-node setting).
// Imported memories are left alone: they are the memory of the module that defines them.

const PAGE = 65536;
const MEMORY_SECTION = 5;

/** An unsigned LEB128 u32 at `at`: its value and the offset after it. */
export function readU32(b: Uint8Array, at: number): [value: number, next: number] {
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

/** The memory section of a module and what replaces it: bytes [start, end) become `section`. */
interface MemoryPatch {
  start: number;
  end: number;
  section: Uint8Array;
}

/**
 * The rewritten memory section (each defined 32-bit, unshared memory limited to `maxPages`, or
 * to its initial size if larger: such a module then cannot grow at all), or undefined when
 * there is nothing to limit or the bytes do not parse (the compiler judges them).
 */
function memoryPatch(bytes: Uint8Array, maxPages: number): MemoryPatch | undefined {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return undefined;
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
        if (flags !== 0 && flags !== 1) return undefined; // shared or 64-bit: not ours to touch
        let min: number;
        [min, p] = readU32(bytes, p);
        let max: number | undefined;
        if (flags === 1) [max, p] = readU32(bytes, p);
        const limit = Math.max(min, Math.min(max ?? Infinity, maxPages));
        body.push(1);
        writeU32(min, body);
        writeU32(limit, body);
      }
      if (p !== end) return undefined;
      const head: number[] = [MEMORY_SECTION];
      writeU32(body.length, head);
      return { start: at, end, section: Uint8Array.from([...head, ...body]) };
    }
  } catch {
    // malformed: compile the original and let WebAssembly report it
  }
  return undefined;
}

/**
 * The module with each defined 32-bit, unshared memory limited to `maxPages` (or its initial
 * size, if larger: such a module then cannot grow at all). Unchanged bytes when there is nothing
 * to limit; bytes it cannot parse are returned unchanged for the compiler to judge.
 */
export function limitMemories(bytes: Uint8Array, maxPages: number): Uint8Array {
  const patch = memoryPatch(bytes, maxPages);
  if (!patch) return bytes;
  const { start, end, section } = patch;
  const out = new Uint8Array(start + section.length + (bytes.length - end));
  out.set(bytes.subarray(0, start), 0);
  out.set(section, start);
  out.set(bytes.subarray(end), start + section.length);
  return out;
}

/**
 * limitMemories without copying the module: `buf` holds the module at `at` (the bytes before it
 * are room), and the memory section is rewritten where it is, the few bytes in front of it
 * moved by the difference in size. For a 12 MB SpiderMonkey module a copy is a fresh 12 MB that
 * must be faulted in, a large part of its compile time on some machines. Returns the module's
 * bytes (a view of `buf`); falls back to limitMemories when the room does not suffice.
 */
export function limitMemoriesInPlace(buf: Uint8Array, at: number, maxPages: number): Uint8Array {
  const module = buf.subarray(at);
  const patch = memoryPatch(module, maxPages);
  if (!patch) return module;
  const { start, end, section } = patch;
  const newAt = at - (section.length - (end - start));
  if (newAt < 0) return limitMemories(module, maxPages);
  buf.copyWithin(newAt, at, at + start); // memmove: the prefix (header and sections before memory)
  buf.set(section, newAt + start);
  return buf.subarray(newAt);
}
