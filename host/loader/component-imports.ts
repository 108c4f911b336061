// Reads the top-level import names of a WebAssembly component binary (with their version
// suffixes, which jco's transpile output drops), so the host can tell the world a component
// was built for and refuse one that imports what we do not provide.

export class NotAComponentError extends Error {}

const COMPONENT_LAYER_VERSION = [0x0d, 0x00, 0x01, 0x00];
const IMPORT_SECTION = 10;

export function isCoreModule(bytes: Uint8Array): boolean {
  return hasMagic(bytes) && bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;
}

function hasMagic(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x00 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
}

export function componentImportNames(bytes: Uint8Array): string[] {
  if (!hasMagic(bytes)) throw new NotAComponentError('not a WebAssembly binary');
  if (isCoreModule(bytes)) throw new NotAComponentError('a core WebAssembly module, not a component');
  if (!COMPONENT_LAYER_VERSION.every((v, i) => bytes[4 + i] === v)) {
    throw new NotAComponentError('unsupported WebAssembly component version');
  }
  const r = new Reader(bytes, 8);
  const names: string[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new NotAComponentError('truncated component binary');
    if (id === IMPORT_SECTION) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        names.push(r.externName());
        r.externDesc();
      }
    }
    r.pos = end;
  }
  return names;
}

class Reader {
  constructor(private readonly b: Uint8Array, public pos: number) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new NotAComponentError('truncated component binary');
    return this.b[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new NotAComponentError('bad LEB128 integer');
    }
  }

  /** signed LEB (s33 type indices); only its length matters here */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }

  string(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  externName(): string {
    const kind = this.byte();
    const name = this.string();
    // 0x01: legacy form carrying a URL / version-suffix string after the name
    if (kind === 0x01) this.string();
    return name;
  }

  externDesc(): void {
    const kind = this.byte();
    switch (kind) {
      case 0x00: // core module: 0x11 typeidx
        this.byte();
        this.u32();
        return;
      case 0x01: // func
      case 0x04: // component
      case 0x05: // instance
        this.u32();
        return;
      case 0x02: // value bound
        this.byte();
        this.skipLeb();
        return;
      case 0x03: // type bound: eq idx | sub resource
        if (this.byte() === 0x00) this.u32();
        return;
      default:
        throw new NotAComponentError(`unknown import kind 0x${kind.toString(16)}`);
    }
  }
}
