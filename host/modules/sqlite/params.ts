// SQL parameters as the runtime takes them: the request's blob is a JSON array (no blob = no
// parameters) converted element by element (`json_to_sqlite` in the runtime's sqlite.rs):
// an integer that fits i64 → INTEGER; any other number (a float, `-0`, an integer past i64) →
// REAL; bool → INTEGER 0/1; null → NULL; a string that is valid standard base64 (padded,
// canonical: the base64 crate's STANDARD engine) → BLOB of the decoded bytes, otherwise TEXT —
// so "test", "abcd" and "" become BLOBs, a quirk kept for fidelity; arrays and objects, a blob
// that is not a JSON array, or invalid JSON → InvalidParameters.

import { parseJson, type Json } from '../../wire/serde-json.js';

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

/** The parameters a Write or Query carries in its blob. Throws InvalidParameters. */
export function parseParams(blob: Uint8Array | undefined): BindValue[] {
  if (!blob) return [];
  let v: Json;
  try {
    v = parseJson(blob);
  } catch (e) {
    throw new InvalidParameters((e as Error).message);
  }
  if (v.k !== 'arr') throw new InvalidParameters('not a JSON array');
  return v.v.map(toBind);
}
