// Wire shapes of `sqlite:distro:sys`, as serde_json reads and writes them in the Kinode runtime
// (0.9.10 `lib/src/core.rs`, 1.0.0 `lib/src/sqlite.rs`). The eras differ in the query action
// (v0 `{"Read":{"query":"..."}}`, v1 `{"Query":"..."}`; both answered `"Read"` + the rows as
// blob), in the error enum and in v0's extra `Backup` action. Parameters and rows travel as
// JSON in blobs: see host/modules/sqlite/params.ts and rows.ts.

import type { Generation } from '../types.js';
import { optTxId, packageIdJson, packageIdText, parseDbRequest, rustDebugOptU64, rustDebugStr, txIdOf, WireError, type DbKey } from './db-request.js';
import { asString, enumTag, needVal, q, structFields, unitOnly } from './serde-json.js';
import { DbEnvelopes, envelopeEnds, txIdThenEnd } from './db-fast.js';
import { ascii, lit, plainString, plainText } from './fast-scan.js';

export type SqliteAction =
  | { tag: 'Open' }
  | { tag: 'RemoveDb' }
  | { tag: 'Write'; statement: string; txId: bigint | undefined }
  /** v0 `Read { query }`, v1 `Query(query)` */
  | { tag: 'Query'; query: string }
  | { tag: 'BeginTx' }
  | { tag: 'Commit'; txId: bigint }
  /** v0 only */
  | { tag: 'Backup' };

export interface SqliteRequest {
  key: DbKey;
  action: SqliteAction;
}

const envelopes = new DbEnvelopes();
const QUERY = ascii('{"Query":');
const READ = ascii('{"Read":{"query":');
const WRITE = ascii('{"Write":{"statement":');

/** Query (v0 Read) and Write as process_lib spells them, read in place (wire/db-fast.ts); else undefined. */
function parseFast(b: Uint8Array, gen: Generation): SqliteRequest | undefined {
  const env = envelopes.read(b);
  if (!env) return undefined;
  const a = env.action;
  let p = lit(b, a, gen === 0 ? READ : QUERY);
  if (p >= 0) {
    const end = plainString(b, p);
    if (end < 0 || b[end] !== 0x7d) return undefined;
    const close = gen === 0 ? end + 2 : end + 1;
    if (gen === 0 && b[end + 1] !== 0x7d) return undefined;
    return envelopeEnds(b, close) ? { key: env.key, action: { tag: 'Query', query: plainText(b, p, end) } } : undefined;
  }
  p = lit(b, a, WRITE);
  const end = plainString(b, p);
  const tail = end < 0 ? undefined : txIdThenEnd(b, end);
  return tail ? { key: env.key, action: { tag: 'Write', statement: plainText(b, p, end), txId: tail.txId } } : undefined;
}

/** A request body in the sender's era. Throws WireError where serde_json would fail. */
export function parseSqliteRequest(body: Uint8Array, gen: Generation): SqliteRequest {
  return parseFast(body, gen) ?? parseSlow(body, gen);
}

function parseSlow(body: Uint8Array, gen: Generation): SqliteRequest {
  const { key, action } = parseDbRequest(body, 'SqliteRequest');
  const { tag, val } = enumTag(action, 'SqliteAction');
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
    case 'Write': {
      const f = structFields(needVal(val, tag), tag, ['statement', 'tx_id'], ['tx_id']);
      return { key, action: { tag, statement: asString(f.get('statement')!, 'statement'), txId: optTxId(f.get('tx_id')!) } };
    }
    case 'Read': {
      if (gen !== 0) break;
      const f = structFields(needVal(val, tag), tag, ['query']);
      return { key, action: { tag: 'Query', query: asString(f.get('query')!, 'query') } };
    }
    case 'Query':
      if (gen === 0) break;
      return { key, action: { tag, query: asString(needVal(val, tag), 'query') } };
    case 'Commit':
      return { key, action: { tag, txId: txIdOf(val, tag) } };
  }
  throw new WireError(`unknown variant \`${tag}\``);
}

/** Rust's `{:?}` of the v0 action: the text of v0's NoCap error. */
export function sqliteActionDebug(a: SqliteAction): string {
  switch (a.tag) {
    case 'Write':
      return `Write { statement: ${rustDebugStr(a.statement)}, tx_id: ${rustDebugOptU64(a.txId)} }`;
    case 'Query':
      return `Read { query: ${rustDebugStr(a.query)} }`;
    case 'Commit':
      return `Commit { tx_id: ${a.txId} }`;
    default:
      return a.tag;
  }
}

// ------------------------------------------------------------------ responses

const enc = new TextEncoder();

const OK = enc.encode('"Ok"');
const READ_BODY = enc.encode('"Read"');
/** fresh copies each time: a reply's body belongs to its receiver */
export const sqliteOk = (): Uint8Array => OK.slice();
/** the answer to a query; the rows travel as the blob */
export const sqliteRead = (): Uint8Array => READ_BODY.slice();
export const sqliteBeginTx = (txId: bigint): Uint8Array => enc.encode(`{"BeginTx":{"tx_id":${txId}}}`);

/** What went wrong, independent of era; `sqliteErrorBody` renders it in the sender's enum. */
export type SqliteError =
  | { kind: 'no-db'; key: DbKey }
  | { kind: 'no-tx'; txId: bigint }
  | { kind: 'no-cap'; cap: 'read' | 'write'; action: SqliteAction }
  /** Open/RemoveDb for another package: v0 NoCap, v1 MismatchingPackageId */
  | { kind: 'mismatching-package'; action: SqliteAction }
  | { kind: 'not-a-write-keyword' }
  | { kind: 'not-a-read-keyword' }
  | { kind: 'invalid-parameters' }
  | { kind: 'malformed' }
  /** a Response sent to the module (v0 answers it; v1 ignores it) */
  | { kind: 'not-a-request' }
  | { kind: 'sql'; text: string }
  | { kind: 'io'; text: string };

function v0Error(e: SqliteError): string {
  switch (e.kind) {
    case 'no-db':
      return '"NoDb"';
    case 'no-tx':
      return '"NoTx"';
    case 'no-cap':
    case 'mismatching-package':
      return `{"NoCap":{"error":${q(sqliteActionDebug(e.action))}}}`;
    case 'not-a-write-keyword':
      return '"NotAWriteKeyword"';
    case 'not-a-read-keyword':
      return '"NotAReadKeyword"';
    case 'invalid-parameters':
      return '"InvalidParameters"';
    case 'malformed':
      return '{"InputError":{"error":"didn\'t serialize to SqliteRequest."}}';
    case 'not-a-request':
      return '{"InputError":{"error":"not a request"}}';
    case 'sql':
      return `{"RusqliteError":{"error":${q(e.text)}}}`;
    case 'io':
      return `{"IOError":{"error":${q(e.text)}}}`;
  }
}

function v1Error(e: SqliteError): string {
  switch (e.kind) {
    case 'no-db':
      return `{"NoDb":[${packageIdJson(e.key.pkg)},${q(e.key.db)}]}`;
    case 'no-tx':
      return `{"NoTx":${e.txId}}`;
    case 'no-cap':
      return e.cap === 'read' ? '"NoReadCap"' : '"NoWriteCap"';
    case 'mismatching-package':
      return '"MismatchingPackageId"';
    case 'not-a-write-keyword':
      return '"NotAWriteKeyword"';
    case 'not-a-read-keyword':
      return '"NotAReadKeyword"';
    case 'invalid-parameters':
      return '"InvalidParameters"';
    case 'malformed':
    case 'not-a-request':
      return '"MalformedRequest"';
    case 'sql':
      return `{"RusqliteError":${q(e.text)}}`;
    case 'io':
      return `{"IOError":${q(e.text)}}`;
  }
}

/** `SqliteResponse::Err` in the sender's era. */
export function sqliteErrorBody(e: SqliteError, gen: Generation): Uint8Array {
  return enc.encode(gen === 0 ? `{"Err":{"error":${v0Error(e)}}}` : `{"Err":${v1Error(e)}}`);
}

/** The error's Display text (thiserror strings of each era), for the module's print. */
export function sqliteErrorText(e: SqliteError, gen: Generation): string {
  const v0 = gen === 0;
  switch (e.kind) {
    case 'no-db':
      return v0 ? 'sqlite: DbDoesNotExist' : `db [${packageIdText(e.key.pkg)}, ${e.key.db}] does not exist`;
    case 'no-tx':
      return v0 ? 'sqlite: NoTx' : `no transaction ${e.txId} found`;
    case 'no-cap':
      return v0 ? `sqlite: No capability: ${sqliteActionDebug(e.action)}` : `no ${e.cap} capability for requested DB`;
    case 'mismatching-package':
      return v0 ? `sqlite: No capability: ${sqliteActionDebug(e.action)}` : 'request to open or remove DB with mismatching package ID';
    case 'not-a-write-keyword':
      return v0 ? 'sqlite: NotAWriteKeyword' : 'write statement started with non-existent write keyword';
    case 'not-a-read-keyword':
      return v0 ? 'sqlite: NotAReadKeyword' : 'read query started with non-existent read keyword';
    case 'invalid-parameters':
      return v0 ? 'sqlite: Invalid Parameters' : 'parameters blob in read/write was misshapen or contained invalid JSON objects';
    case 'malformed':
      return v0 ? "sqlite: input bytes/json/key error: didn't serialize to SqliteRequest." : 'sqlite got a malformed request that failed to deserialize';
    case 'not-a-request':
      return v0 ? 'sqlite: input bytes/json/key error: not a request' : 'sqlite got a malformed request that failed to deserialize';
    case 'sql':
      return v0 ? `sqlite: rusqlite error: ${e.text}` : `rusqlite error: ${e.text}`;
    case 'io':
      return v0 ? `sqlite: IO error: ${e.text}` : `IO error: ${e.text}`;
  }
}
