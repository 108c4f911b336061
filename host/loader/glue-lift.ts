// Cheaper guest-memory access for jco's glue (an edit of glue-patch.ts). Every message a process
// sends or receives makes the glue lift or lower an address (four strings), a body and a few
// scalars, and on the Rust pair bench that was the largest share of a worker's busy time after
// the doorbell (--cpu-prof, docs/performance.md §19):
//
// * `dataView(memory0)` runs before every scalar read or write (~30 per message) and reads
//   `memory0.buffer`, an API getter that costs far more than the read itself. Here the DataView is
//   kept while it is the same memory's and its buffer is not detached (a wasm memory's buffer is
//   detached when the memory grows, and only then).
// * Strings are lifted with TextDecoder over a fresh Uint8Array. Short ASCII strings (every name
//   in an address) are taken from a direct-mapped cache when their bytes match, as the message
//   codec does (wire/string-cache.ts); the rest are decoded as before.
// * A `list<u8>` passed to a send (body, context, blob bytes) was copied out with
//   `memory.buffer.slice`: a new ArrayBuffer with its own backing store per message, which V8
//   tracks and sweeps and counts as external memory (more scavenges). Small lists are copied into
//   an on-heap Uint8Array (≤ 64 bytes) or a shared 16 KiB arena (≤ 4 KiB); big ones keep their
//   own buffer, so a big blob can still be handed over to the kernel without a copy; a big one is
//   copied into a spare buffer of the same size when the thread's blob pool has one
//   (process/blob-pool.ts), not into fresh memory.
// * Short ASCII strings are lowered byte by byte instead of through TextEncoder.encodeInto.
//
// The helpers are written here as one self-contained factory and injected into the glue as text
// (the glue is a script with no imports); `makeGlueLift` is also what the tests call.

import { trampolineSpans } from './glue-text.js';

/**
 * Builds the helpers. Self-contained: it is serialised with Function.prototype.toString and run
 * inside the glue, so it must not refer to anything outside itself.
 */
export function makeGlueLift() {
  interface Mem {
    buffer: ArrayBuffer;
  }
  const decoder = new TextDecoder();
  const SLOTS = 1024;
  const MAX_CACHED = 63;
  const names: string[] = new Array<string>(SLOTS).fill('');
  const ARENA = 16 * 1024;
  const ARENA_MAX = 4 * 1024;
  const HEAP_MAX = 64;
  let arena = new Uint8Array(0);
  let arenaAt = 0;
  let dvMem: Mem | undefined;
  let dv = new DataView(new ArrayBuffer(0));
  let u8Mem: Mem | undefined;
  let u8 = new Uint8Array(0);

  /** The memory's DataView, made again only for another memory or after a grow detached the old buffer. */
  function dataView(mem: Mem): DataView {
    if (dvMem === mem && dv.buffer.byteLength !== 0) return dv;
    dvMem = mem;
    dv = new DataView(mem.buffer);
    return dv;
  }

  /** A byte view of the whole memory, kept as dataView keeps its DataView. */
  function bytesOf(mem: Mem): Uint8Array {
    if (u8Mem === mem && u8.length !== 0) return u8;
    u8Mem = mem;
    u8 = new Uint8Array(mem.buffer);
    return u8;
  }

  /** The UTF-8 text at [ptr, ptr + len), as TextDecoder gives it. */
  function text(mem: Mem, ptr: number, len: number): string {
    const m = bytesOf(mem);
    // out of range or long: exactly the glue's own expression (which throws the same RangeError)
    if (len > MAX_CACHED || ptr + len > m.length || len === 0) return decoder.decode(new Uint8Array(mem.buffer, ptr, len));
    const end = ptr + len;
    let h = len;
    for (let i = ptr; i < end; i++) h = (Math.imul(h, 31) + m[i]!) | 0;
    const slot = (h ^ (h >>> 9)) & (SLOTS - 1);
    const hit = names[slot]!;
    if (hit.length === len) {
      let i = 0;
      while (i < len && hit.charCodeAt(i) === m[ptr + i]) i++;
      if (i === len) return hit;
    }
    let s = '';
    for (let i = ptr; i < end; i++) {
      const c = m[i]!;
      if (c >= 0x80) return decoder.decode(m.subarray(ptr, end));
      s += String.fromCharCode(c);
    }
    names[slot] = s;
    return s;
  }

  /** A copy of the bytes at [ptr, ptr + len) that the guest can no longer change. */
  function bytes(mem: Mem, ptr: number, len: number): Uint8Array {
    const m = bytesOf(mem);
    if (len > ARENA_MAX && ptr + len <= m.length) {
      // a big list: into a spare buffer of the thread's blob pool when it has one of this size
      // (process/blob-pool.ts: a fresh buffer is zero-filled and page-faulted first), else into a
      // fresh one; either way a whole ArrayBuffer of its own, so a blob can be handed over
      const pool = (globalThis as { [k: symbol]: { take(n: number): ArrayBuffer | undefined } | undefined })[
        Symbol.for('kinode-host.blob-pool')
      ];
      const spare = pool?.take(len);
      if (spare !== undefined) {
        const out = new Uint8Array(spare);
        out.set(m.subarray(ptr, ptr + len));
        return out;
      }
    }
    if (len > ARENA_MAX || ptr + len > m.length) return new Uint8Array(mem.buffer.slice(ptr, ptr + len));
    if (len <= HEAP_MAX) {
      // small typed arrays live on V8's heap: no backing store to track
      const out = new Uint8Array(len);
      for (let i = 0; i < len; i++) out[i] = m[ptr + i]!;
      return out;
    }
    if (arenaAt + len > arena.length) {
      arena = new Uint8Array(ARENA);
      arenaAt = 0;
    }
    const out = arena.subarray(arenaAt, arenaAt + len);
    out.set(m.subarray(ptr, ptr + len));
    arenaAt = (arenaAt + len + 7) & ~7;
    return out;
  }

  /**
   * Write `s` at `ptr` when it is ASCII and short (`len` is its UTF-8 length, already counted);
   * false when the caller must encode it itself.
   */
  function asciiInto(mem: Mem, s: string, ptr: number, len: number): boolean {
    if (len !== s.length || len > MAX_CACHED) return false;
    const m = bytesOf(mem);
    if (ptr + len > m.length) return false;
    for (let i = 0; i < len; i++) m[ptr + i] = s.charCodeAt(i);
    return true;
  }

  return { dataView, text, bytes, asciiInto };
}

// ---- the edits

const DATAVIEW = 'const dataView = mem => dv.buffer === mem.buffer ? dv : dv = new DataView(mem.buffer);';
const DECODE = /TEXT_DECODER_UTF8\.decode\(new Uint8Array\((memory\d+)\.buffer, (ptr\d+), (len\d+)\)\)/g;
const SLICE = /new Uint8Array\((memory\d+)\.buffer\.slice\((ptr\d+), \2 \+ (len\d+) \* 1\)\)/g;
const ENCODE_AT = '    const ptr = realloc(0, 0, 1, len);\n    const { read, written } = TEXT_ENCODER_UTF8.encodeInto(';
const ENCODE_FN = 'function _utf8AllocateAndEncode(s, realloc, memory) {';
/** The sends: what they lift (body, context, blob) goes to the kernel at once or into a context. */
const SEND_MARK = /_trampoline\d+\.fnName = 'kinode:process\/standard@[\d.]+#send(Request|Requests|Response|AndAwaitResponse)';/;

/** The glue with the memory helpers in use, or undefined when its text is not the shape expected. */
export function patchGlueMemory(js: string): string | undefined {
  const dvAt = js.indexOf(DATAVIEW);
  const encAt = js.indexOf(ENCODE_FN);
  if (dvAt < 0 || encAt < 0 || js.indexOf(ENCODE_AT, encAt) < 0 || js.indexOf(ENCODE_AT, encAt) - encAt > 1200) return undefined;
  let out = js.slice(0, dvAt) + `const _khLift = (${makeGlueLift.toString()})();\n  const dataView = _khLift.dataView;` + js.slice(dvAt + DATAVIEW.length);
  out = out.replace(
    ENCODE_AT,
    '    const ptr = realloc(0, 0, 1, len);\n    if (_khLift.asciiInto(memory, s, ptr, len)) return { ptr, len, codepoints };\n' +
      '    const { read, written } = TEXT_ENCODER_UTF8.encodeInto(',
  );
  out = out.replace(DECODE, '_khLift.text($1, $2, $3)');
  // list<u8> copies only in the sends: other imports (WASI streams, set-state) may keep or
  // transfer what they are given, and a view of the shared arena must be neither
  let result = '';
  let last = 0;
  for (const [start, end] of trampolineSpans(out)) {
    const body = out.slice(start, end);
    if (!SEND_MARK.test(body)) continue;
    result += out.slice(last, start) + body.replace(SLICE, '_khLift.bytes($1, $2, $3)');
    last = end;
  }
  return result + out.slice(last);
}
