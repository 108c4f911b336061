// Query results as the runtime writes them: a JSON array of row objects `{"<column>": value}`
// built from serde_json Values, so keys come out sorted (serde_json's map is a BTreeMap) and a
// column name that repeats keeps its last value. INTEGER → number (all 64 bits), REAL → number
// written like Rust's ryu (`1.0`, `1e16`, `1.5e-7`), TEXT → string, BLOB → standard base64
// string, NULL → null. (A REAL that is infinite makes the runtime panic and never answer; here
// it is written as null.)

import { q } from '../../wire/serde-json.js';

/** `x` as serde_json writes an f64 (ryu's shortest form, ryu's layout). */
export function ryuF64(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // JS's shortest round-trip digits, then ryu's choice between plain and exponent forms
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential())!;
  const digits = m[1]! + (m[2] ?? '');
  const length = digits.length;
  const kk = Number(m[3]) + 1; // position of the decimal point after the first digit
  const k = kk - length;
  let s: string;
  if (k >= 0 && kk <= 16) s = `${digits}${'0'.repeat(k)}.0`;
  else if (kk > 0 && kk <= 16) s = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) s = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) s = `${digits}e${kk - 1}`;
  else s = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + s;
}

function valueJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return ryuF64(v);
  if (typeof v === 'string') return q(v);
  if (Buffer.isBuffer(v)) return q(v.toString('base64'));
  return 'null';
}

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Per key of the row object, in its order: the key's JSON text and the column it takes its value from. */
export type Layout = ReadonlyArray<readonly [key: string, column: number]>;
const layouts = new Map<string, Layout>();

/** Column order → sorted key order (a repeated name keeps its last column); memoized per column list. */
export function layout(columns: string[]): Layout {
  const id = columns.join('\0');
  let l = layouts.get(id);
  if (l) return l;
  const last = new Map<string, number>();
  columns.forEach((c, i) => last.set(c, i));
  l = [...last.keys()].sort(byUtf8).map((k) => [q(k), last.get(k)!] as const);
  if (layouts.size > 1024) layouts.clear();
  layouts.set(id, l);
  return l;
}

/** The blob of a `Read` answer: rows from better-sqlite3's raw mode with safe integers. */
export function rowsJson(columns: string[], rows: unknown[][]): Uint8Array {
  return rowsJsonIn(layout(columns), rows);
}

/** The same, with the statement's layout already at hand (database.ts keeps it per statement). */
export function rowsJsonIn(cols: Layout, rows: unknown[][]): Uint8Array {
  // one string grown in place: no array, closure or join per row (a SELECT's answer is built on
  // the kernel thread, docs/performance.md §37)
  let s = '[';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    s += r === 0 ? '{' : ',{';
    for (let c = 0; c < cols.length; c++) {
      const [k, i] = cols[c]!;
      if (c > 0) s += ',';
      s += k;
      s += ':';
      s += valueJson(row[i]);
    }
    s += '}';
  }
  return Buffer.from(`${s}]`);
}
