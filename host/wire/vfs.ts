// Wire shapes of `vfs:distro:sys`, as serde_json reads and writes them in the Kinode runtime
// (lib/src/core.rs @ v0.9.10, lib/src/vfs.rs @ v1.0.0): the request `{"path", "action"}`, the
// VfsAction enum (ReadExact and Seek differ per era), the VfsResponse enum (SeekFrom differs)
// and the two VfsError enums. One error kind per failure; `errorBody` renders it per era.

import type { Generation } from '../types.js';
import { asString, asBool, asUint, enumTag, needVal, parseJson, q, structFields, unitOnly, WireError, type Json } from './serde-json.js';
import { ascii, lit, plainString, plainText } from './fast-scan.js';

export { WireError };

export type SeekFrom = { tag: 'Start'; offset: bigint } | { tag: 'End' | 'Current'; offset: bigint };

export type VfsAction =
  | { tag: 'CreateDrive' | 'CreateDir' | 'CreateDirAll' | 'CreateFile' | 'CloseFile' | 'Write' | 'WriteAll' }
  | { tag: 'Append' | 'SyncAll' | 'Read' | 'ReadDir' | 'ReadToEnd' | 'ReadToString' | 'RemoveFile' }
  | { tag: 'RemoveDir' | 'RemoveDirAll' | 'Metadata' | 'AddZip' | 'Len' | 'Hash' }
  | { tag: 'OpenFile'; create: boolean }
  | { tag: 'ReadExact'; length: bigint }
  | { tag: 'Seek'; from: SeekFrom }
  | { tag: 'Rename' | 'CopyFile'; newPath: string }
  | { tag: 'SetLen'; len: bigint };

export interface VfsRequest {
  path: string;
  action: VfsAction;
}

const UNIT_ACTIONS = [
  'CreateDrive', 'CreateDir', 'CreateDirAll', 'CreateFile', 'CloseFile', 'Write', 'WriteAll', 'Append', 'SyncAll',
  'Read', 'ReadDir', 'ReadToEnd', 'ReadToString', 'RemoveFile', 'RemoveDir', 'RemoveDirAll', 'Metadata', 'AddZip',
  'Len', 'Hash',
] as const;

function asI64(v: Json, what: string): bigint {
  if (v.k !== 'num' || !/^-?[0-9]+$/.test(v.raw)) throw new WireError(`${what}: expected i64`);
  const n = BigInt(v.raw);
  if (n < -(1n << 63n) || n >= 1n << 63n) throw new WireError(`${what}: expected i64`);
  return n;
}

function parseSeekFrom(v: Json): SeekFrom {
  const { tag, val } = enumTag(v, 'SeekFrom');
  switch (tag) {
    case 'Start':
      return { tag, offset: asUint(needVal(val, tag), 'Start', 64) };
    case 'End':
    case 'Current':
      return { tag, offset: asI64(needVal(val, tag), tag) };
    default:
      throw new WireError(`unknown variant \`${tag}\`, expected one of \`Start\`, \`End\`, \`Current\``);
  }
}

function parseAction(v: Json, gen: Generation): VfsAction {
  const { tag, val } = enumTag(v, 'VfsAction');
  if ((UNIT_ACTIONS as readonly string[]).includes(tag)) {
    unitOnly(val, tag);
    return { tag } as VfsAction;
  }
  switch (tag) {
    case 'OpenFile': {
      const f = structFields(needVal(val, tag), tag, ['create']);
      return { tag, create: asBool(f.get('create')!, 'create') };
    }
    case 'ReadExact': {
      // v0 `ReadExact(u64)`, v1 `ReadExact { length: u64 }`
      if (gen === 0) return { tag, length: asUint(needVal(val, tag), tag, 64) };
      const f = structFields(needVal(val, tag), tag, ['length']);
      return { tag, length: asUint(f.get('length')!, 'length', 64) };
    }
    case 'Seek': {
      // v0 `Seek { seek_from: SeekFrom }`, v1 `Seek(SeekFrom)`
      if (gen === 1) return { tag, from: parseSeekFrom(needVal(val, tag)) };
      const f = structFields(needVal(val, tag), tag, ['seek_from']);
      return { tag, from: parseSeekFrom(f.get('seek_from')!) };
    }
    case 'Rename':
    case 'CopyFile': {
      const f = structFields(needVal(val, tag), tag, ['new_path']);
      return { tag, newPath: asString(f.get('new_path')!, 'new_path') };
    }
    case 'SetLen':
      return { tag, len: asUint(needVal(val, tag), tag, 64) };
    default:
      throw new WireError(`unknown variant \`${tag}\``);
  }
}

const PATH = ascii('{"path":');
const ACTION = ascii(',"action":');
/** unit actions by name, each one object (a request's action is never changed after parsing) */
const UNIT = new Map<string, VfsAction>(UNIT_ACTIONS.map((tag) => [tag, { tag }]));

/**
 * `{"path":"…","action":"<unit action>"}` as process_lib's serde_json writes it, read in place
 * (wire/fast-scan.ts): no value tree, and the path comes back as the same string object each time
 * it repeats. Undefined for anything else, which the strict reader takes.
 */
function parseFast(b: Uint8Array): VfsRequest | undefined {
  const p = lit(b, 0, PATH);
  const pathEnd = plainString(b, p);
  const a = lit(b, pathEnd, ACTION);
  const actionEnd = plainString(b, a);
  if (actionEnd < 0 || actionEnd !== b.length - 1 || b[actionEnd] !== 0x7d) return undefined;
  const action = UNIT.get(plainText(b, a, actionEnd));
  return action ? { path: plainText(b, p, pathEnd), action } : undefined;
}

/** A request body as the sender's era writes it. Throws WireError where serde_json would fail. */
export function parseVfsRequest(body: Uint8Array, gen: Generation): VfsRequest {
  return parseFast(body) ?? parseSlow(body, gen);
}

function parseSlow(body: Uint8Array, gen: Generation): VfsRequest {
  const f = structFields(parseJson(body), 'VfsRequest', ['path', 'action']);
  return { path: asString(f.get('path')!, 'path'), action: parseAction(f.get('action')!, gen) };
}

/** Rust's `{:?}` of a v0 VfsAction (what v0's NoCap carries as `action`). */
export function actionDebug(a: VfsAction): string {
  switch (a.tag) {
    case 'OpenFile':
      return `OpenFile { create: ${a.create} }`;
    case 'ReadExact':
      return `ReadExact(${a.length})`;
    case 'Seek':
      return `Seek { seek_from: ${a.from.tag}(${a.from.offset}) }`;
    case 'Rename':
    case 'CopyFile':
      return `${a.tag} { new_path: ${rustDebugString(a.newPath)} }`;
    case 'SetLen':
      return `SetLen(${a.len})`;
    default:
      return a.tag;
  }
}

/** Rust's `{:?}` of a str: quotes, `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, other controls as `\u{..}`. */
function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 0) out += '\\0';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

// ------------------------------------------------------------------ responses

export type FileType = 'File' | 'Directory' | 'Symlink' | 'Other';

export type VfsResponse =
  | { tag: 'Ok' }
  | { tag: 'Read' }
  | { tag: 'SeekFrom'; offset: bigint }
  | { tag: 'ReadDir'; entries: Array<{ path: string; fileType: FileType }> }
  | { tag: 'ReadToString'; text: string }
  | { tag: 'Metadata'; fileType: FileType; len: bigint }
  | { tag: 'Len'; len: bigint }
  | { tag: 'Hash'; hash: Uint8Array };

const enc = new TextEncoder();

const OK_BODY = enc.encode('"Ok"');
const READ_BODY = enc.encode('"Read"');

export function responseBody(r: VfsResponse, gen: Generation): Uint8Array {
  switch (r.tag) {
    // the two answers of every Write and Read: copied from constants (a reply's body belongs to
    // its receiver, so each gets its own bytes), not stringified and encoded per reply
    case 'Ok':
      return OK_BODY.slice();
    case 'Read':
      return READ_BODY.slice();
    case 'SeekFrom':
      return enc.encode(gen === 0 ? `{"SeekFrom":${r.offset}}` : `{"SeekFrom":{"new_offset":${r.offset}}}`);
    case 'ReadDir':
      return enc.encode(`{"ReadDir":[${r.entries.map((e) => `{"path":${q(e.path)},"file_type":${q(e.fileType)}}`).join(',')}]}`);
    case 'ReadToString':
      return enc.encode(`{"ReadToString":${q(r.text)}}`);
    case 'Metadata':
      return enc.encode(`{"Metadata":{"file_type":${q(r.fileType)},"len":${r.len}}}`);
    case 'Len':
      return enc.encode(`{"Len":${r.len}}`);
    case 'Hash':
      return enc.encode(`{"Hash":[${Array.from(r.hash).join(',')}]}`);
  }
}

// ------------------------------------------------------------------ errors

/** What went wrong, independent of era. Paths are as the runtime reports them per case. */
export type VfsFailure =
  /** body not a VfsRequest: v0 BadJson{serde text}, v1 MalformedRequest */
  | { kind: 'bad-json'; error: string }
  /** a Response sent to vfs: v0 BadRequest "not a request", v1 ignores it */
  | { kind: 'not-a-request' }
  /** v0 BadRequest "input path tries to escape parent vfs directory: <path>", v1 MalformedRequest */
  | { kind: 'escape'; path: string }
  /** fewer than 2 segments / bad package segment: v0 ParseError{error, path}, v1 MalformedRequest */
  | { kind: 'bad-path'; error: string; path: string }
  /** v0 NoCap{action, path}, v1 NoReadCap / NoWriteCap */
  | { kind: 'no-cap'; write: boolean; action: string; path: string }
  /** v0 BadRequest "blob needs to exist for <Action>", v1 NoBlob */
  | { kind: 'no-blob'; action: string }
  /** the blob is not a zip: ParseError{error, path} in both eras */
  | { kind: 'zip-parse'; error: string; path: string }
  /** a zip entry cannot be read: v0 IOError{error, path}, v1 UnzipError */
  | { kind: 'unzip'; error: string; path: string }
  /** a filesystem failure: v0 IOError{error, path}, v1 IOError(error) */
  | { kind: 'io'; error: string; path: string };

export function errorBody(e: VfsFailure, gen: Generation): Uint8Array {
  return enc.encode(`{"Err":${gen === 0 ? v0Error(e) : v1Error(e)}}`);
}

function v0Error(e: VfsFailure): string {
  switch (e.kind) {
    case 'bad-json':
      return `{"BadJson":{"error":${q(e.error)}}}`;
    case 'not-a-request':
      return '{"BadRequest":{"error":"not a request"}}';
    case 'escape':
      return `{"BadRequest":{"error":${q(`input path tries to escape parent vfs directory: ${e.path}`)}}}`;
    case 'bad-path':
    case 'zip-parse':
      return `{"ParseError":{"error":${q(e.error)},"path":${q(e.path)}}}`;
    case 'no-cap':
      return `{"NoCap":{"action":${q(e.action)},"path":${q(e.path)}}}`;
    case 'no-blob':
      return `{"BadRequest":{"error":${q(`blob needs to exist for ${e.action}`)}}}`;
    case 'unzip':
    case 'io':
      return `{"IOError":{"error":${q(e.error)},"path":${q(e.path)}}}`;
  }
}

function v1Error(e: VfsFailure): string {
  switch (e.kind) {
    case 'bad-json':
    case 'not-a-request': // never sent in v1 (ignored), rendered for completeness
    case 'escape':
    case 'bad-path':
      return '"MalformedRequest"';
    case 'no-cap':
      return e.write ? '"NoWriteCap"' : '"NoReadCap"';
    case 'no-blob':
      return '"NoBlob"';
    case 'zip-parse':
      return `{"ParseError":{"error":${q(e.error)},"path":${q(e.path)}}}`;
    case 'unzip':
      return '"UnzipError"';
    case 'io':
      return `{"IOError":${q(e.error)}}`;
  }
}
