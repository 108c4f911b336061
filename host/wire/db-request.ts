// What the wires of `kv:distro:sys` and `sqlite:distro:sys` share: the request envelope
// `{"package_id":{...},"db":"...","action":...}`, the db key, the capability params each era
// issues, and Rust's `Debug` text of the values that v0 puts into its NoCap errors.

import type { Generation, PackageId } from '../types.js';
import { asString, asUint, needVal, parseJson, q, structFields, WireError, type Json } from './serde-json.js';

export { WireError, type Json };

/** A db is named by the package that owns it and its name within that package. */
export interface DbKey {
  pkg: PackageId;
  db: string;
  /**
   * Set on keys the fast path remembers (db-fast.ts): the same object comes back for every request
   * naming this db, so modules may memoize per key object; this is its map key (db/paths.ts).
   */
  text?: string;
}

export interface DbRequest {
  key: DbKey;
  /** the `action` field, left for the module's own enum */
  action: Json;
}

function parsePackageId(v: Json): PackageId {
  const f = structFields(v, 'PackageId', ['package_name', 'publisher_node']);
  return { packageName: asString(f.get('package_name')!, 'package_name'), publisherNode: asString(f.get('publisher_node')!, 'publisher_node') };
}

/** `KvRequest` / `SqliteRequest` (identical shells in both eras). Throws WireError. */
export function parseDbRequest(body: Uint8Array, name: string): DbRequest {
  const f = structFields(parseJson(body), name, ['package_id', 'db', 'action']);
  return {
    key: { pkg: parsePackageId(f.get('package_id')!), db: asString(f.get('db')!, 'db') },
    action: f.get('action')!,
  };
}

/** Option<u64> that may also be missing (serde treats a missing Option field as None). */
export function optTxId(v: Json): bigint | undefined {
  return v.k === 'null' ? undefined : asUint(v, 'tx_id', 64);
}

export function txIdOf(val: Json | undefined, variant: string): bigint {
  const f = structFields(needVal(val, variant), variant, ['tx_id']);
  return asUint(f.get('tx_id')!, 'tx_id', 64);
}

// ------------------------------------------------------------------ text forms

export const packageIdJson = (p: PackageId): string => `{"package_name":${q(p.packageName)},"publisher_node":${q(p.publisherNode)}}`;
export const packageIdText = (p: PackageId): string => `${p.packageName}:${p.publisherNode}`;
export const bytesJson = (b: Uint8Array): string => `[${b.join(',')}]`;

export type CapKind = 'read' | 'write';

/**
 * The params of a capability the module issues: v0 `{"db":"x","kind":"read"}` (serde_json's
 * `json!` sorts keys; it names no package, so it opens db `x` of every package), v1
 * `{"kind":"read","db_key":[{package id},"x"]}`. Holders compare params as parsed JSON.
 */
export function capParams(gen: Generation, kind: CapKind, key: DbKey): string {
  return gen === 0 ? `{"db":${q(key.db)},"kind":${q(kind)}}` : `{"kind":${q(kind)},"db_key":[${packageIdJson(key.pkg)},${q(key.db)}]}`;
}

/** Rust's `{:?}` of a str: quoted, with `char::escape_debug`'s escapes. */
export function rustDebugStr(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\0':
        out += '\\0';
        break;
      default:
        // not printable for Rust: control, format, separator, private-use and unassigned chars
        out += /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u.test(ch) ? `\\u{${ch.codePointAt(0)!.toString(16)}}` : ch;
    }
  }
  return `${out}"`;
}

/** Rust's `{:?}` of a Vec<u8>: `[1, 2, 3]` */
export const rustDebugBytes = (b: Uint8Array): string => `[${b.join(', ')}]`;

/** Rust's `{:?}` of an Option<u64> */
export const rustDebugOptU64 = (v: bigint | undefined): string => (v === undefined ? 'None' : `Some(${v})`);
