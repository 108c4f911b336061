// The action handler of sqlite: parse the request in the sender's era → check caps → open the
// db (every action opens it, creating it when absent, as the runtime does) → keyword gate →
// parameters → perform → one reply. Success is answered only when a response is expected (or
// there is an rsvp), with the request's metadata echoed and query rows as an
// `application/octet-stream` blob; errors are answered always, with no metadata, and printed at
// verbosity 1 (`sqlite: <error>`).
//
// Caps: read for Query, write for Write/BeginTx/Commit, in both eras. (Runtime 1.0.0 asks the
// kernel and ignores the answer, so any process may read and write any package's db there;
// kinode-host enforces the caps in v1 too and answers NoReadCap / NoWriteCap, the variants v1
// declares for it.)

import type { Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import {
  parseSqliteRequest,
  sqliteBeginTx,
  sqliteErrorBody,
  sqliteErrorText,
  sqliteOk,
  sqliteRead,
  type SqliteError,
  type SqliteRequest,
} from '../../wire/sqlite.js';
import type { DbCaps } from '../db/caps.js';
import type { OpenHandles } from '../db/handles.js';
import { dbDir, dbKeyString, DbPathError, removeDbDir } from '../db/paths.js';
import type { Transactions } from '../db/transactions.js';
import { SqlError, SqliteDb } from './database.js';
import { InvalidParameters, parseParams, type BindValue } from './params.js';

type Outcome = { body: Uint8Array; rows?: Uint8Array } | { error: SqliteError };
export type QueuedWrite = [statement: string, params: BindValue[]];

const READ_KEYWORDS = new Set(['ANALYZE', 'ATTACH', 'BEGIN', 'EXPLAIN', 'PRAGMA', 'SELECT', 'VALUES', 'WITH']);
const WRITE_KEYWORDS = new Set([
  'ALTER', 'ANALYZE', 'COMMIT', 'CREATE', 'DELETE', 'DETACH', 'DROP', 'END', 'INSERT',
  'REINDEX', 'RELEASE', 'RENAME', 'REPLACE', 'ROLLBACK', 'SAVEPOINT', 'UPDATE', 'VACUUM',
]);

/** The runtime's gate: the first whitespace-separated word, upper-cased. */
const firstWord = (sql: string): string => (/^\s*(\S*)/.exec(sql)![1]!).toUpperCase();

export interface SqliteParts {
  ctx: ModuleContext;
  /** `<home>/sqlite` */
  root: string;
  caps: DbCaps;
  handles: OpenHandles<SqliteDb>;
  txs: Transactions<QueuedWrite>;
}

const text = (e: unknown): string => (e as Error)?.message ?? String(e);

export class SqliteActions {
  constructor(private readonly p: SqliteParts) {}

  handle(km: KernelMessage, gen: Generation): void {
    if (km.message.tag !== 'request') {
      // v0 answers a Response with an error; v1 ignores it
      if (gen === 0) this.fail(km, { kind: 'not-a-request' }, gen);
      return;
    }
    const req = km.message.val;
    let r: SqliteRequest;
    try {
      r = parseSqliteRequest(req.body, gen);
    } catch (e) {
      this.p.ctx.print(1, `sqlite: got invalid request: ${text(e)}`);
      this.fail(km, { kind: 'malformed' }, gen);
      return;
    }
    const out = this.perform(km.source.process, gen, r, km.lazyLoadBlob);
    if ('error' in out) {
      this.fail(km, out.error, gen);
      return;
    }
    if (req.expectsResponse === undefined && km.rsvp === undefined) return;
    const blob: LazyLoadBlob | undefined = out.rows ? { mime: 'application/octet-stream', bytes: out.rows } : undefined;
    this.p.ctx.respond(km, { inherit: false, body: out.body, metadata: req.metadata, capabilities: [] }, blob);
  }

  private fail(km: KernelMessage, e: SqliteError, gen: Generation): void {
    this.p.ctx.print(1, gen === 0 ? sqliteErrorText(e, gen) : `sqlite: ${sqliteErrorText(e, gen)}`);
    this.p.ctx.respond(km, { inherit: false, body: sqliteErrorBody(e, gen), metadata: undefined, capabilities: [] });
  }

  private perform(source: ProcessId, gen: Generation, { key, action }: SqliteRequest, blob: LazyLoadBlob | undefined): Outcome {
    const { caps, handles, txs } = this.p;
    const k = dbKeyString(key);
    const ownPackage = source.packageName === key.pkg.packageName && source.publisherNode === key.pkg.publisherNode;
    switch (action.tag) {
      case 'Write':
      case 'BeginTx':
      case 'Commit':
        if (!caps.has(source, gen, 'write', key)) return { error: { kind: 'no-cap', cap: 'write', action } };
        break;
      case 'Query':
        if (!caps.has(source, gen, 'read', key)) return { error: { kind: 'no-cap', cap: 'read', action } };
        break;
      case 'Open':
        if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
        caps.grantOwner(source, gen, key);
        break;
      case 'RemoveDb': {
        if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
        const failed = removeDbDir(this.p.root, key, () => handles.close(k));
        if (failed !== undefined) return { error: { kind: 'io', text: failed } };
        break;
      }
      case 'Backup':
        break;
    }

    // every action opens the db (so RemoveDb leaves an empty one behind, as in the runtime)
    let db: SqliteDb;
    try {
      db = handles.get(k, () => new SqliteDb(dbDir(this.p.root, key), key.db));
    } catch (e) {
      if (e instanceof DbPathError) return { error: { kind: 'io', text: e.message } };
      return { error: { kind: 'sql', text: text(e) } };
    }

    try {
      switch (action.tag) {
        case 'Open':
        case 'RemoveDb':
          return { body: sqliteOk() };
        case 'Query': {
          if (!READ_KEYWORDS.has(firstWord(action.query))) return { error: { kind: 'not-a-read-keyword' } };
          return { body: sqliteRead(), rows: db.query(action.query, parseParams(blob?.bytes)) };
        }
        case 'Write': {
          if (!WRITE_KEYWORDS.has(firstWord(action.statement))) return { error: { kind: 'not-a-write-keyword' } };
          const params = parseParams(blob?.bytes);
          // an unknown tx_id starts a new transaction (no NoTx here, unlike kv)
          if (action.txId !== undefined) txs.getOrCreate(action.txId).push([action.statement, params]);
          else db.write(action.statement, params);
          return { body: sqliteOk() };
        }
        case 'BeginTx':
          return { body: sqliteBeginTx(txs.begin()) };
        case 'Commit': {
          const queued = txs.take(action.txId);
          if (!queued) return { error: { kind: 'no-tx', txId: action.txId } };
          db.commit(queued);
          return { body: sqliteOk() };
        }
        case 'Backup':
          for (const d of handles.values()) d.checkpoint();
          return { body: sqliteOk() };
      }
    } catch (e) {
      if (e instanceof InvalidParameters) return { error: { kind: 'invalid-parameters' } };
      return { error: { kind: 'sql', text: e instanceof SqlError ? e.message : text(e) } };
    }
  }
}
