// A byte scanner for the one spelling of a JSON body that serde_json writes (no whitespace, plain
// ASCII strings without escapes, integers without sign or leading zeros): the kv, sqlite and vfs
// bodies processes send in practice. The modules parse each body with the strict reader of
// serde-json.ts, which builds a value tree and was ~10 µs of the kernel thread per kv Get
// (docs/performance.md §18). These scans read the common spelling in place; every function
// returns -1 (or undefined) at the first byte outside it, and the caller then parses the body the
// slow way. So a body is read here only when the strict reader would read it the same way, and
// every error still comes from the strict reader.

import { StringCache } from './string-cache.js';

/** Strings read out of bodies (names, paths, SQL texts): the same text comes back as the same string object. */
const strings = new StringCache(1024, 512);

/** The bytes of an ASCII literal, for `lit`. */
export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** `pos` past `word` if `b` holds it there, else -1. */
export function lit(b: Uint8Array, pos: number, word: Uint8Array): number {
  if (pos < 0 || pos + word.length > b.length) return -1;
  for (let i = 0; i < word.length; i++) if (b[pos + i] !== word[i]) return -1;
  return pos + word.length;
}

/** The end of a plain string at `pos` (printable ASCII, no `"` or `\` inside), past its closing quote; -1 if not one. */
export function plainString(b: Uint8Array, pos: number): number {
  if (pos < 0 || b[pos] !== 0x22) return -1;
  for (let i = pos + 1; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}

/** The text of the plain string that `plainString` found between `pos` and `end`. */
export const plainText = (b: Uint8Array, pos: number, end: number): string => strings.text(b, pos + 1, end - 1);

/** A `Vec<u8>` spelled `[1,2,3]` at `pos`: its bytes and the position after it, or undefined. */
export function byteArray(b: Uint8Array, pos: number): { bytes: Uint8Array; end: number } | undefined {
  if (pos < 0 || b[pos] !== 0x5b) return undefined;
  let i = pos + 1;
  if (b[i] === 0x5d) return { bytes: new Uint8Array(0), end: i + 1 };
  // count first (commas + 1), then fill: one allocation of the exact size
  let n = 1;
  let j = i;
  for (; j < b.length && b[j] !== 0x5d; j++) if (b[j] === 0x2c) n++;
  if (j === b.length) return undefined;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    let c = b[i];
    if (c === undefined || c < 0x30 || c > 0x39) return undefined;
    let v = c - 0x30;
    i++;
    if (v !== 0) {
      // at most three digits, no leading zero
      for (let d = 0; d < 2; d++) {
        c = b[i];
        if (c === undefined || c < 0x30 || c > 0x39) break;
        v = v * 10 + c - 0x30;
        i++;
      }
    }
    if (v > 255) return undefined;
    out[k] = v;
    if (b[i] === (k === n - 1 ? 0x5d : 0x2c)) i++;
    else return undefined;
  }
  return { bytes: out, end: i };
}

/** A u64 spelled without sign or leading zero at `pos`: its value and end, or undefined. */
export function plainU64(b: Uint8Array, pos: number): { value: bigint; end: number } | undefined {
  if (pos < 0) return undefined;
  let i = pos;
  while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  const digits = i - pos;
  if (digits === 0 || digits > 20 || (digits > 1 && b[pos] === 0x30)) return undefined;
  // a fraction or exponent follows: not an integer lexeme
  const next = b[i];
  if (next === 0x2e || next === 0x65 || next === 0x45) return undefined;
  const value = BigInt(strings.text(b, pos, i));
  if (value >= 1n << 64n) return undefined;
  return { value, end: i };
}

const NULL = ascii('null');

/** `Option<u64>`: `null` or a plain u64 at `pos`. */
export function optionU64(b: Uint8Array, pos: number): { value: bigint | undefined; end: number } | undefined {
  const n = lit(b, pos, NULL);
  if (n >= 0) return { value: undefined, end: n };
  return plainU64(b, pos);
}
