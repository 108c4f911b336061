// Reads the top-level imports of a WebAssembly component binary (names with their version
// suffixes, which jco's transpile output drops), so the host can tell the world a component
// was built for and refuse one that imports what we do not provide.
//
// The name grammar differs by the era of the tool that wrote the binary; every form below is
// accepted (docs/loader.md says where each was checked):
//   0x00 name                  wasm-tools since 2024-09, and kebab names since 2023-05
//   0x01 name                  wasm-tools 2023-05 .. 2024-09 for names with a ':' (wit-bindgen
//                              0.24 / kit 0.8 / Kinode 0.9 era); the same string, nothing after
//   0x02 name vec(attribute)   component-model 2026: attribute = 0x00 implements | 0x01
//                              versionsuffix | 0x02 external-id, each a string
// Each import section is read to its exact end: a section that does not parse to its last byte
// is malformed, and says so, instead of leaving a misread to surface as a confusing error later.

export class NotAComponentError extends Error {}

export type ExternKind = 'module' | 'func' | 'value' | 'type' | 'component' | 'instance';

export interface ComponentImport {
  /** the name as written in the binary */
  name: string;
  /** the name's leading byte: 0x00, 0x01 or 0x02 */
  form: 0 | 1 | 2;
  kind: ExternKind;
  /** 0x02 names: the `versionsuffix` attribute, e.g. '.0' after 'wasi:io/poll@0.2' */
  versionSuffix?: string;
  /** 0x02 names: the `implements` attribute, e.g. 'wasi:keyvalue/store' */
  implements?: string;
  /** 0x02 names: the `external-id` attribute */
  externalId?: string;
}

const COMPONENT_LAYER_VERSION = [0x0d, 0x00, 0x01, 0x00];
const IMPORT_SECTION = 10;

export function isCoreModule(bytes: Uint8Array): boolean {
  return hasMagic(bytes) && bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;
}

function hasMagic(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x00 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
}

/** The full import names, each with its version suffix attribute (if any) appended. */
export function componentImportNames(bytes: Uint8Array): string[] {
  return componentImports(bytes).map((i) => i.name + (i.versionSuffix ?? ''));
}

/** Every top-level import, in binary order. Throws only NotAComponentError. */
export function componentImports(bytes: Uint8Array): ComponentImport[] {
  if (!hasMagic(bytes)) throw new NotAComponentError('not a WebAssembly binary');
  if (isCoreModule(bytes)) throw new NotAComponentError('a core WebAssembly module, not a component');
  if (!COMPONENT_LAYER_VERSION.every((v, i) => bytes[4 + i] === v)) {
    const got = Array.from(bytes.subarray(4, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new NotAComponentError(`unsupported WebAssembly component version (${got}; this host reads 0d 00 01 00)`);
  }
  const r = new Reader(bytes, 8, bytes.length);
  const imports: ComponentImport[] = [];
  while (r.pos < bytes.length) {
    const at = r.pos;
    const id = r.byte('section id');
    const size = r.u32('section size');
    const end = r.pos + size;
    if (end > bytes.length) {
      throw new NotAComponentError(`truncated component binary: section ${id} at byte ${at} needs ${size} bytes, ${bytes.length - r.pos} remain`);
    }
    if (id === IMPORT_SECTION) imports.push(...importSection(bytes, r.pos, end, at));
    r.pos = end;
  }
  return imports;
}

/**
 * One import section. `value` imports are read as wasmparser reads them (a bare valtype) and,
 * if the section then does not parse to its end, as the component-model text has them since
 * 2025 (a value bound); no other part of the grammar is ambiguous.
 */
function importSection(bytes: Uint8Array, start: number, end: number, sectionAt: number): ComponentImport[] {
  const first = readImports(new Reader(bytes, start, end, 'its section'), 'valtype', sectionAt);
  if ('imports' in first) return first.imports;
  if (first.sawValue) {
    const second = readImports(new Reader(bytes, start, end, 'its section'), 'bound', sectionAt);
    if ('imports' in second) return second.imports;
  }
  throw first.error;
}

type SectionResult = { imports: ComponentImport[] } | { error: NotAComponentError; sawValue: boolean };

function readImports(r: Reader, valueForm: 'valtype' | 'bound', sectionAt: number): SectionResult {
  const imports: ComponentImport[] = [];
  let count = 0;
  try {
    count = r.u32('import count');
    for (let i = 0; i < count; i++) {
      const { name, form, attrs } = readName(r);
      imports.push({ name, form, ...attrs, kind: readExternDesc(r, valueForm) });
    }
    if (r.pos !== r.end) throw new NotAComponentError(`${r.end - r.pos} unread bytes at its end (byte ${r.pos})`);
    return { imports };
  } catch (e) {
    if (!(e instanceof NotAComponentError)) throw e;
    const which = imports.length < count ? ` (import ${imports.length + 1} of ${count})` : count ? ` (${count} imports)` : '';
    return {
      error: new NotAComponentError(`malformed import section at byte ${sectionAt}${which}: ${e.message}`),
      sawValue: imports.some((i) => i.kind === 'value') || r.lastKind === 0x02,
    };
  }
}

type Attributes = Pick<ComponentImport, 'implements' | 'versionSuffix' | 'externalId'>;

function readName(r: Reader): { name: string; form: 0 | 1 | 2; attrs: Attributes } {
  const at = r.pos;
  const form = r.byte('import name');
  if (form !== 0x00 && form !== 0x01 && form !== 0x02) {
    throw new NotAComponentError(`unknown import name form 0x${hex(form)} at byte ${at}`);
  }
  const name = r.string('import name');
  const attrs: Attributes = {};
  if (form === 0x02) {
    const n = r.u32('name attribute count');
    for (let i = 0; i < n; i++) {
      const aAt = r.pos;
      const tag = r.byte('name attribute');
      const key = ATTRIBUTES[tag];
      if (!key) throw new NotAComponentError(`unknown name attribute 0x${hex(tag)} at byte ${aAt}`);
      if (attrs[key] !== undefined) throw new NotAComponentError(`duplicate name attribute 0x${hex(tag)} at byte ${aAt}`);
      attrs[key] = r.string('name attribute');
    }
  }
  return { name, form, attrs };
}

const ATTRIBUTES: Record<number, 'implements' | 'versionSuffix' | 'externalId'> = {
  0x00: 'implements',
  0x01: 'versionSuffix',
  0x02: 'externalId',
};

function readExternDesc(r: Reader, valueForm: 'valtype' | 'bound'): ExternKind {
  const at = r.pos;
  const kind = r.byte('extern kind');
  r.lastKind = kind;
  switch (kind) {
    case 0x00: {
      // core module: 0x11 core:typeidx
      const sub = r.byte('core module type');
      if (sub !== 0x11) throw new NotAComponentError(`core module import has 0x${hex(sub)} where 0x11 belongs (byte ${at + 1})`);
      r.u32('core type index');
      return 'module';
    }
    case 0x01:
      r.u32('func type index');
      return 'func';
    case 0x02:
      if (valueForm === 'bound') {
        const b = r.byte('value bound');
        if (b === 0x00) r.u32('value index');
        else if (b === 0x01) r.valtype();
        else throw new NotAComponentError(`unknown value bound 0x${hex(b)} at byte ${at + 1}`);
      } else {
        r.valtype();
      }
      return 'value';
    case 0x03: {
      // type bound: 0x00 eq typeidx | 0x01 sub resource
      const b = r.byte('type bound');
      if (b === 0x00) r.u32('type index');
      else if (b !== 0x01) throw new NotAComponentError(`unknown type bound 0x${hex(b)} at byte ${at + 1}`);
      return 'type';
    }
    case 0x04:
      r.u32('component type index');
      return 'component';
    case 0x05:
      r.u32('instance type index');
      return 'instance';
    default:
      throw new NotAComponentError(`unknown import kind 0x${hex(kind)} at byte ${at}`);
  }
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads within [pos, end): nothing is ever read past `end` (a section's last byte). */
class Reader {
  /** the last extern kind byte read (a failed value import is retried in the other form) */
  lastKind = -1;

  constructor(
    private readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
    /** what `end` is the end of, for messages */
    private readonly within = 'the file',
  ) {}

  byte(what: string): number {
    if (this.pos >= this.end) throw this.truncated(what);
    return this.b[this.pos++]!;
  }

  /** unsigned LEB128, at most 5 bytes */
  u32(what: string): number {
    const at = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.byte(what);
      result += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (i === 4 && byte > 0x0f) break;
        return result;
      }
    }
    throw new NotAComponentError(`bad LEB128 u32 (${what}) at byte ${at}`);
  }

  /** a component valtype: one primitive-type byte, or a type index as signed LEB128 (s33) */
  valtype(): void {
    const at = this.pos;
    for (let i = 0; i < 5; i++) {
      if ((this.byte('value type') & 0x80) === 0) return;
    }
    throw new NotAComponentError(`bad LEB128 s33 (value type) at byte ${at}`);
  }

  string(what: string): string {
    const len = this.u32(`${what} length`);
    const at = this.pos;
    if (len > this.end - at) throw this.truncated(`${what} of ${len} bytes`);
    this.pos += len;
    try {
      return utf8.decode(this.b.subarray(at, at + len));
    } catch {
      throw new NotAComponentError(`${what} at byte ${at} is not valid UTF-8`);
    }
  }

  private truncated(what: string): NotAComponentError {
    return new NotAComponentError(`truncated: ${what} at byte ${this.pos} runs past the end of ${this.within} (byte ${this.end})`);
  }
}
