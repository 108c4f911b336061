// Wire shapes of `kv:distro:sys`, as serde_json reads and writes them in the Kinode runtime
// (0.9.10 `lib/src/core.rs`, 1.0.0 `lib/src/kv.rs`). The two eras differ in `Get` (v0 struct
// variant `{"Get":{"key":[..]}}`, v1 newtype `{"Get":[..]}`), in the error enum (v0 struct
// variants with `error` strings, v1 tuple variants) and in v0's extra `Backup` action.

import type { Generation } from '../types.js';
import {
  optTxId,
  packageIdJson,
  packageIdText,
  parseDbRequest,
  rustDebugBytes,
  rustDebugOptU64,
  txIdOf,
  WireError,
  type DbKey,
} from './db-request.js';
import { asBytes, enumTag, needVal, q, structFields, unitOnly } from './serde-json.js';
import { DbEnvelopes, envelopeEnds, txIdThenEnd } from './db-fast.js';
import { ascii, byteArray, lit } from './fast-scan.js';

export type KvAction =
  | { tag: 'Open' }
  | { tag: 'RemoveDb' }
  | { tag: 'Set'; key: Uint8Array; txId: bigint | undefined }
  | { tag: 'Delete'; key: Uint8Array; txId: bigint | undefined }
  | { tag: 'Get'; key: Uint8Array }
  | { tag: 'BeginTx' }
  | { tag: 'Commit'; txId: bigint }
  /** v0 only */
  | { tag: 'Backup' };

export interface KvRequest {
  key: DbKey;
  action: KvAction;
}

const envelopes = new DbEnvelopes();
const GET = ascii('{"Get":');
const KEY = ascii('{"key":');
const SET = ascii('{"Set":{"key":');
const DELETE = ascii('{"Delete":{"key":');

/** Set / Delete's `{"key":[..],"tx_id":…}}` from `pos` (tx_id may be left out, as serde allows). */
function keyedFast(b: Uint8Array, pos: number, tag: 'Set' | 'Delete'): KvAction | undefined {
  const k = byteArray(b, pos);
  const end = k && txIdThenEnd(b, k.end);
  return end ? { tag, key: k.bytes, txId: end.txId } : undefined;
}

/** Get, Set and Delete as process_lib spells them, read in place (wire/db-fast.ts); else undefined. */
function parseFast(b: Uint8Array, gen: Generation): KvRequest | undefined {
  const env = envelopes.read(b);
  if (!env) return undefined;
  const a = env.action;
  let action: KvAction | undefined;
  let p: number;
  if ((p = lit(b, a, GET)) >= 0) {
    if (gen === 0) p = lit(b, p, KEY);
    const k = byteArray(b, p);
    if (!k || b[k.end] !== 0x7d) return undefined;
    let end = k.end + 1;
    if (gen === 0) {
      if (b[end] !== 0x7d) return undefined;
      end++;
    }
    if (envelopeEnds(b, end)) action = { tag: 'Get', key: k.bytes };
  } else if ((p = lit(b, a, SET)) >= 0) action = keyedFast(b, p, 'Set');
  else if ((p = lit(b, a, DELETE)) >= 0) action = keyedFast(b, p, 'Delete');
  return action ? { key: env.key, action } : undefined;
}

/** A request body in the sender's era. Throws WireError where serde_json would fail. */
export function parseKvRequest(body: Uint8Array, gen: Generation): KvRequest {
  return parseFast(body, gen) ?? parseSlow(body, gen);
}

function parseSlow(body: Uint8Array, gen: Generation): KvRequest {
  const { key, action } = parseDbRequest(body, 'KvRequest');
  const { tag, val } = enumTag(action, 'KvAction');
  const keyed = (): { key: Uint8Array; txId: bigint | undefined } => {
    const f = structFields(needVal(val, tag), tag, ['key', 'tx_id'], ['tx_id']);
    return { key: asBytes(f.get('key')!, 'key'), txId: optTxId(f.get('tx_id')!) };
  };
  switch (tag) {
    case 'Open':
    case 'RemoveDb':
    case 'BeginTx':
      unitOnly(val, tag);
      return { key, action: { tag } };
    case 'Backup':
      if (gen !== 0) break;
      unitOnly(val, tag);
      return { key, action: { tag } };
    case 'Set':
    case 'Delete':
      return { key, action: { tag, ...keyed() } };
    case 'Get':
      if (gen === 0) {
        const f = structFields(needVal(val, tag), tag, ['key']);
        return { key, action: { tag, key: asBytes(f.get('key')!, 'key') } };
      }
      return { key, action: { tag, key: asBytes(needVal(val, tag), 'key') } };
    case 'Commit':
      return { key, action: { tag, txId: txIdOf(val, tag) } };
  }
  throw new WireError(`unknown variant \`${tag}\``);
}

/** Rust's `{:?}` of the v0 action: the text of v0's NoCap error. */
export function kvActionDebug(a: KvAction): string {
  switch (a.tag) {
    case 'Set':
    case 'Delete':
      return `${a.tag} { key: ${rustDebugBytes(a.key)}, tx_id: ${rustDebugOptU64(a.txId)} }`;
    case 'Get':
      return `Get { key: ${rustDebugBytes(a.key)} }`;
    case 'Commit':
      return `Commit { tx_id: ${a.txId} }`;
    default:
      return a.tag;
  }
}

// ------------------------------------------------------------------ responses

const enc = new TextEncoder();

const OK = enc.encode('"Ok"');
/** a fresh copy each time: a reply's body belongs to its receiver */
export const kvOk = (): Uint8Array => OK.slice();
export const kvBeginTx = (txId: bigint): Uint8Array => enc.encode(`{"BeginTx":{"tx_id":${txId}}}`);

const GET_V0 = ascii('{"Get":{"key":[');
const GET_V1 = ascii('{"Get":[');

/**
 * The key echoed, `{"Get":[..]}` (v0 `{"Get":{"key":[..]}}`); the value travels as the blob.
 * Written byte by byte: the same text as `bytesJson`, without building it as a string first.
 */
export function kvGet(key: Uint8Array, gen: Generation): Uint8Array {
  const head = gen === 0 ? GET_V0 : GET_V1;
  let size = head.length + (gen === 0 ? 3 : 2) + Math.max(0, key.length - 1);
  for (let i = 0; i < key.length; i++) size += key[i]! >= 100 ? 3 : key[i]! >= 10 ? 2 : 1;
  const out = new Uint8Array(size);
  out.set(head);
  let p = head.length;
  for (let i = 0; i < key.length; i++) {
    if (i > 0) out[p++] = 0x2c;
    const v = key[i]!;
    if (v >= 100) out[p++] = 0x30 + ((v / 100) | 0);
    if (v >= 10) out[p++] = 0x30 + (((v / 10) | 0) % 10);
    out[p++] = 0x30 + (v % 10);
  }
  out[p++] = 0x5d;
  if (gen === 0) out[p++] = 0x7d;
  out[p] = 0x7d;
  return out;
}

/** What went wrong, independent of era; `kvErrorBody` renders it in the sender's enum. */
export type KvError =
  | { kind: 'no-db'; key: DbKey }
  | { kind: 'key-not-found' }
  | { kind: 'no-tx'; txId: bigint }
  /** a missing read (Get) or write cap; v0 NoCap names the action */
  | { kind: 'no-cap'; cap: 'read' | 'write'; action: KvAction }
  /** Open/RemoveDb for another package: v0 NoCap, v1 MismatchingPackageId */
  | { kind: 'mismatching-package'; action: KvAction }
  | { kind: 'malformed' }
  | { kind: 'no-blob' }
  /** a Response sent to the module (v0 answers it; v1 ignores it) */
  | { kind: 'not-a-request' }
  | { kind: 'store'; action: KvAction | undefined; text: string }
  | { kind: 'io'; text: string };

function v0Error(e: KvError): string {
  switch (e.kind) {
    case 'no-db':
      return '"NoDb"';
    case 'key-not-found':
      return '"KeyNotFound"';
    case 'no-tx':
      return '"NoTx"';
    case 'no-cap':
    case 'mismatching-package':
      return `{"NoCap":{"error":${q(kvActionDebug(e.action))}}}`;
    case 'malformed':
      return '{"InputError":{"error":"didn\'t serialize to KvAction."}}';
    case 'no-blob':
      return '{"InputError":{"error":"no blob"}}';
    case 'not-a-request':
      return '{"InputError":{"error":"not a request"}}';
    case 'store':
      return `{"RocksDBError":{"action":${q(e.action ? kvActionDebug(e.action) : '')},"error":${q(e.text)}}}`;
    case 'io':
      return `{"IOError":{"error":${q(e.text)}}}`;
  }
}

function v1Error(e: KvError): string {
  switch (e.kind) {
    case 'no-db':
      return `{"NoDb":[${packageIdJson(e.key.pkg)},${q(e.key.db)}]}`;
    case 'key-not-found':
      return '"KeyNotFound"';
    case 'no-tx':
      return `{"NoTx":${e.txId}}`;
    case 'no-cap':
      return e.cap === 'read' ? '"NoReadCap"' : '"NoWriteCap"';
    case 'mismatching-package':
      return '"MismatchingPackageId"';
    case 'malformed':
    case 'no-blob':
    case 'not-a-request':
      return '"MalformedRequest"';
    case 'store':
      return `{"RocksDBError":${q(e.text)}}`;
    case 'io':
      return `{"IOError":${q(e.text)}}`;
  }
}

/** `KvResponse::Err` in the sender's era. */
export function kvErrorBody(e: KvError, gen: Generation): Uint8Array {
  return enc.encode(gen === 0 ? `{"Err":{"error":${v0Error(e)}}}` : `{"Err":${v1Error(e)}}`);
}

/** The error's Display text (thiserror strings of each era), for the module's print. */
export function kvErrorText(e: KvError, gen: Generation): string {
  switch (e.kind) {
    case 'no-db':
      return gen === 0 ? 'DbDoesNotExist' : `db [${packageIdText(e.key.pkg)}, ${e.key.db}] does not exist`;
    case 'key-not-found':
      return gen === 0 ? 'KeyNotFound' : 'key not found';
    case 'no-tx':
      return gen === 0 ? 'no Tx found' : `no transaction ${e.txId} found`;
    case 'no-cap':
      if (gen === 0) return `No capability: ${kvActionDebug(e.action)}`;
      return `no ${e.cap} capability for requested DB`;
    case 'mismatching-package':
      return gen === 0 ? `No capability: ${kvActionDebug(e.action)}` : 'request to open or remove DB with mismatching package ID';
    case 'malformed':
    case 'no-blob':
    case 'not-a-request': {
      if (gen !== 0) return 'kv got a malformed request that either failed to deserialize or was missing a required blob';
      const why = e.kind === 'malformed' ? "didn't serialize to KvAction." : e.kind === 'no-blob' ? 'no blob' : 'not a request';
      return `input bytes/json/key error: ${why}`;
    }
    case 'store':
      return gen === 0 ? `rocksdb internal error: ${e.text}` : `RocksDB internal error: ${e.text}`;
    case 'io':
      return `IO error: ${e.text}`;
  }
}
