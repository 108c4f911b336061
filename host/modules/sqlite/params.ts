// SQL parameters as the runtime takes them: the request's blob is a JSON array (no blob = no
// parameters) converted element by element (`json_to_sqlite` in the runtime's sqlite.rs):
// an integer that fits i64 → INTEGER; any other number (a float, `-0`, an integer past i64) →
// REAL; bool → INTEGER 0/1; null → NULL; a string that is valid standard base64 (padded,
// canonical: the base64 crate's STANDARD engine) → BLOB of the decoded bytes, otherwise TEXT —
// so "test", "abcd" and "" become BLOBs, a quirk kept for fidelity; arrays and objects, a blob
// that is not a JSON array, or invalid JSON → InvalidParameters.

import { parseJson, type Json } from '../../wire/serde-json.js';
import { ascii, lit, plainString, plainText } from '../../wire/fast-scan.js';

/** What better-sqlite3 binds: bigint → INTEGER, number → REAL, string → TEXT, Buffer → BLOB. */
export type BindValue = bigint | number | string | Buffer | null;

export class InvalidParameters extends Error {}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function numberParam(raw: string): bigint | number {
  if (/^-?[0-9]+$/.test(raw)) {
    const n = BigInt(raw);
    // serde_json reads "-0" as the float -0.0, and integers past i64 as f64
    if (n >= I64_MIN && n <= I64_MAX && !(n === 0n && raw.startsWith('-'))) return n;
  }
  const x = Number(raw);
  if (!Number.isFinite(x)) throw new InvalidParameters(`number out of range: ${raw}`); // serde_json fails to parse
  return x;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64_VALUE = (c: string): number => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c);

/** The bytes of `s` if the base64 crate's STANDARD engine decodes it, else undefined. */
export function strictBase64(s: string): Buffer | undefined {
  if (!B64.test(s)) return undefined;
  // the bits past the last whole byte must be zero (no "ab==")
  if (s.endsWith('==') && (B64_VALUE(s[s.length - 3]!) & 0x0f) !== 0) return undefined;
  if (!s.endsWith('==') && s.endsWith('=') && (B64_VALUE(s[s.length - 2]!) & 0x03) !== 0) return undefined;
  return Buffer.from(s, 'base64');
}

function toBind(v: Json): BindValue {
  switch (v.k) {
    case 'num':
      return numberParam(v.raw);
    case 'str':
      return strictBase64(v.v) ?? v.v;
    case 'bool':
      return v.v ? 1n : 0n;
    case 'null':
      return null;
    default:
      throw new InvalidParameters('arrays and objects are not parameters');
  }
}

const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');

/**
 * The common spelling read in place (wire/fast-scan.ts): `[` values `]` with no whitespace, each a
 * plain string, an integer of at most 15 digits (exact as a double; not `-0`), null, true or false.
 * Undefined for anything else, which the strict reader then takes (and refuses or not) as before.
 */
function parseFast(b: Uint8Array): BindValue[] | undefined {
  if (b[0] !== 0x5b) return undefined;
  const out: BindValue[] = [];
  let i = 1;
  if (b[i] === 0x5d) return i === b.length - 1 ? out : undefined;
  for (;;) {
    const c = b[i];
    if (c === 0x22) {
      const end = plainString(b, i);
      if (end < 0) return undefined;
      const text = plainText(b, i, end);
      out.push(strictBase64(text) ?? text);
      i = end;
    } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      const neg = c === 0x2d;
      let j = neg ? i + 1 : i;
      const first = j;
      let v = 0;
      while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) v = v * 10 + b[j++]! - 0x30;
      const digits = j - first;
      if (digits === 0 || digits > 15 || (digits > 1 && b[first] === 0x30) || (neg && v === 0)) return undefined;
      const next = b[j];
      if (next === 0x2e || next === 0x65 || next === 0x45) return undefined; // a float: the strict reader
      out.push(BigInt(neg ? -v : v));
      i = j;
    } else {
      let j: number;
      if ((j = lit(b, i, NULL)) >= 0) out.push(null);
      else if ((j = lit(b, i, TRUE)) >= 0) out.push(1n);
      else if ((j = lit(b, i, FALSE)) >= 0) out.push(0n);
      else return undefined;
      i = j;
    }
    if (b[i] === 0x2c) i++;
    else if (b[i] === 0x5d && i === b.length - 1) return out;
    else return undefined;
  }
}

/** The parameters a Write or Query carries in its blob. Throws InvalidParameters. */
export function parseParams(blob: Uint8Array | undefined): BindValue[] {
  if (!blob) return [];
  const fast = parseFast(blob);
  if (fast) return fast;
  let v: Json;
  try {
    v = parseJson(blob);
  } catch (e) {
    throw new InvalidParameters((e as Error).message);
  }
  if (v.k !== 'arr') throw new InvalidParameters('not a JSON array');
  return v.v.map(toBind);
}
