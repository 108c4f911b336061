// serde_json as the Kinode runtime reads and writes it, shared by the module wire formats:
// a strict JSON reader (what `serde_json::from_slice` accepts, numbers kept as lexemes) and
// serde's derive rules for reading structs, enums and scalars (unknown fields ignored, missing
// `Option` fields `None`, everything else strict; structs also as sequences), plus the few
// writers both modules use.

// ------------------------------------------------------------------ strict JSON (serde_json)

export type Json =
  | { k: 'null' }
  | { k: 'bool'; v: boolean }
  /** the number's lexeme, so integers and floats stay apart as they do for serde_json */
  | { k: 'num'; raw: string }
  | { k: 'str'; v: string }
  | { k: 'arr'; v: Json[] }
  | { k: 'obj'; v: Array<[string, Json]> };

export class WireError extends Error {}

const RECURSION_LIMIT = 128; // serde_json's default
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse JSON text the way `serde_json::from_slice` accepts it. Throws WireError. */
export function parseJson(bytes: Uint8Array): Json {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new WireError('invalid UTF-8');
  }
  const p = new JsonParser(text);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) throw new WireError(`trailing characters at ${p.pos}`);
  return v;
}

class JsonParser {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else return;
    }
  }

  private fail(what: string): never {
    throw new WireError(`${what} at ${this.pos}`);
  }

  private lit(word: string): void {
    if (this.s.startsWith(word, this.pos)) this.pos += word.length;
    else this.fail('expected value');
  }

  value(depth: number): Json {
    const c = this.s[this.pos];
    switch (c) {
      case 'n':
        this.lit('null');
        return { k: 'null' };
      case 't':
        this.lit('true');
        return { k: 'bool', v: true };
      case 'f':
        this.lit('false');
        return { k: 'bool', v: false };
      case '"':
        return { k: 'str', v: this.string() };
      case '[': {
        if (depth >= RECURSION_LIMIT) this.fail('recursion limit exceeded');
        this.pos++;
        const v: Json[] = [];
        this.ws();
        if (this.s[this.pos] === ']') {
          this.pos++;
          return { k: 'arr', v };
        }
        for (;;) {
          this.ws();
          v.push(this.value(depth + 1));
          this.ws();
          const d = this.s[this.pos++];
          if (d === ']') return { k: 'arr', v };
          if (d !== ',') this.fail('expected `,` or `]`');
        }
      }
      case '{': {
        if (depth >= RECURSION_LIMIT) this.fail('recursion limit exceeded');
        this.pos++;
        const v: Array<[string, Json]> = [];
        this.ws();
        if (this.s[this.pos] === '}') {
          this.pos++;
          return { k: 'obj', v };
        }
        for (;;) {
          this.ws();
          if (this.s[this.pos] !== '"') this.fail('key must be a string');
          const key = this.string();
          this.ws();
          if (this.s[this.pos++] !== ':') this.fail('expected `:`');
          this.ws();
          v.push([key, this.value(depth + 1)]);
          this.ws();
          const d = this.s[this.pos++];
          if (d === '}') return { k: 'obj', v };
          if (d !== ',') this.fail('expected `,` or `}`');
        }
      }
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { k: 'num', raw: this.number() };
        return this.fail('expected value');
    }
  }

  private number(): string {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    // "01" is an error for serde_json (a number followed by trailing characters)
    return m[0];
  }

  private hex4(): number {
    const h = this.s.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid escape');
    this.pos += 4;
    return parseInt(h, 16);
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('EOF while parsing a string');
      if (c === 0x22) {
        out += this.s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.s.slice(start, this.pos);
      this.pos++;
      const e = this.s[this.pos++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const u = this.hex4();
          if (u >= 0xdc00 && u <= 0xdfff) this.fail('lone trailing surrogate');
          if (u >= 0xd800 && u <= 0xdbff) {
            if (this.s[this.pos] !== '\\' || this.s[this.pos + 1] !== 'u') this.fail('lone leading surrogate');
            this.pos += 2;
            const lo = this.hex4();
            if (lo < 0xdc00 || lo > 0xdfff) this.fail('invalid surrogate pair');
            out += String.fromCharCode(u, lo);
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default:
          this.fail('invalid escape');
      }
      start = this.pos;
    }
  }
}

// ------------------------------------------------------------------ serde derive helpers

export function asString(v: Json, what: string): string {
  if (v.k !== 'str') throw new WireError(`${what}: expected a string`);
  return v.v;
}

export function asOptString(v: Json, what: string): string | undefined {
  return v.k === 'null' ? undefined : asString(v, what);
}

export function asBool(v: Json, what: string): boolean {
  if (v.k !== 'bool') throw new WireError(`${what}: expected a boolean`);
  return v.v;
}

export function asOptBool(v: Json, what: string): boolean | undefined {
  return v.k === 'null' ? undefined : asBool(v, what);
}

/** An unsigned integer of at most `bits` bits (serde_json: no fraction, no exponent). */
export function asUint(v: Json, what: string, bits: 8 | 16 | 32 | 64): bigint {
  if (v.k !== 'num' || !/^-?[0-9]+$/.test(v.raw)) throw new WireError(`${what}: expected u${bits}`);
  if (v.raw.startsWith('-')) {
    if (/^-0+$/.test(v.raw)) return 0n;
    throw new WireError(`${what}: expected u${bits}`);
  }
  const n = BigInt(v.raw);
  if (n >= 1n << BigInt(bits)) throw new WireError(`${what}: expected u${bits}`);
  return n;
}

export const asU32 = (v: Json, what: string): number => Number(asUint(v, what, 32));

export function asOptU64(v: Json, what: string): bigint | undefined {
  return v.k === 'null' ? undefined : asUint(v, what, 64);
}

/** Vec<u8>: a sequence of integers 0..=255 */
export function asBytes(v: Json, what: string): Uint8Array {
  if (v.k !== 'arr') throw new WireError(`${what}: expected a sequence`);
  return Uint8Array.from(v.v, (x, i) => Number(asUint(x, `${what}[${i}]`, 8)));
}

/** HashMap<String, String>: later duplicates win; first-insertion order kept. */
export function asStringMap(v: Json, what: string): Array<[string, string]> {
  if (v.k !== 'obj') throw new WireError(`${what}: expected a map`);
  const m = new Map<string, string>();
  for (const [k, val] of v.v) m.set(k, asString(val, `${what}.${k}`));
  return [...m.entries()];
}

/**
 * A struct with `fields` in declaration order, from a JSON object (unknown keys ignored,
 * duplicates rejected) or array (exact length). `optional` fields may be missing from an object.
 */
export function structFields(v: Json, name: string, fields: readonly string[], optional: readonly string[] = []): Map<string, Json> {
  const out = new Map<string, Json>();
  if (v.k === 'arr') {
    if (v.v.length !== fields.length) throw new WireError(`${name}: expected ${fields.length} elements`);
    fields.forEach((f, i) => out.set(f, v.v[i]!));
    return out;
  }
  if (v.k !== 'obj') throw new WireError(`${name}: expected a struct`);
  for (const [k, val] of v.v) {
    if (!fields.includes(k)) continue;
    if (out.has(k)) throw new WireError(`${name}: duplicate field \`${k}\``);
    out.set(k, val);
  }
  for (const f of fields) {
    if (out.has(f)) continue;
    if (optional.includes(f)) out.set(f, { k: 'null' });
    else throw new WireError(`${name}: missing field \`${f}\``);
  }
  return out;
}

/** Externally tagged enum: `"Unit"` or `{"Variant": value}` (exactly one key). */
export function enumTag(v: Json, name: string): { tag: string; val: Json | undefined } {
  if (v.k === 'str') return { tag: v.v, val: undefined };
  if (v.k === 'obj' && v.v.length === 1) return { tag: v.v[0]![0], val: v.v[0]![1] };
  throw new WireError(`${name}: expected an enum`);
}

export function needVal(val: Json | undefined, name: string): Json {
  if (val === undefined) throw new WireError(`${name}: expected a value, found a unit variant`);
  return val;
}

export function unitEnum<T extends string>(v: Json, name: string, variants: readonly string[]): T {
  const { tag, val } = enumTag(v, name);
  if (!variants.includes(tag)) throw new WireError(`${name}: unknown variant \`${tag}\``);
  // serde_json accepts a unit variant as "Name" or {"Name": null}
  if (val !== undefined && val.k !== 'null') throw new WireError(`${name}: expected unit variant`);
  return tag as T;
}

export function unitOnly(val: Json | undefined, name: string): void {
  // serde_json accepts a unit variant as "Name" or {"Name": null}
  if (val !== undefined && val.k !== 'null') throw new WireError(`${name}: expected unit variant`);
}

// ------------------------------------------------------------------ writers

export const q = (s: string): string => JSON.stringify(s); // the escapes serde_json writes for Rust strings

/** HashMap<String, String> as a JSON object, entries in the given order. */
export function mapJson(entries: Iterable<[string, string]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${q(k)}:${q(v)}`);
  return `{${parts.join(',')}}`;
}
