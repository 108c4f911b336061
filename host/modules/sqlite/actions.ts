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
import { admitDbAction, answerDbRequest, type DbNeed, type DbOutcome, type DbReplies } from '../db/request.js';
import type { Transactions } from '../db/transactions.js';
import { SqlError, SqliteDb } from './database.js';
import { InvalidParameters, parseParams, type BindValue } from './params.js';

export type QueuedWrite = [statement: string, params: BindValue[]];

const READ_KEYWORDS = new Set(['ANALYZE', 'ATTACH', 'BEGIN', 'EXPLAIN', 'PRAGMA', 'SELECT', 'VALUES', 'WITH']);
const WRITE_KEYWORDS = new Set([
  'ALTER', 'ANALYZE', 'COMMIT', 'CREATE', 'DELETE', 'DETACH', 'DROP', 'END', 'INSERT',
  'REINDEX', 'RELEASE', 'RENAME', 'REPLACE', 'ROLLBACK', 'SAVEPOINT', 'UPDATE', 'VACUUM',
]);

/** The runtime's gate: the first whitespace-separated word, upper-cased. */
const firstWordOf = (sql: string): string => (/^\s*(\S*)/.exec(sql)![1]!).toUpperCase();

/** first words by SQL text: a process sends the same few statements again and again (bounded) */
const firstWords = new Map<string, string>();
function firstWord(sql: string): string {
  let w = firstWords.get(sql);
  if (w === undefined) {
    w = firstWordOf(sql);
    if (firstWords.size >= 1024) firstWords.clear();
    firstWords.set(sql, w);
  }
  return w;
}

export interface SqliteParts {
  ctx: ModuleContext;
  /** `<home>/sqlite` */
  root: string;
  caps: DbCaps;
  handles: OpenHandles<SqliteDb>;
  txs: Transactions<QueuedWrite>;
}

const text = (e: unknown): string => (e as Error)?.message ?? String(e);

const NEED: Record<SqliteRequest['action']['tag'], DbNeed> = {
  Write: 'write',
  BeginTx: 'write',
  Commit: 'write',
  Query: 'read',
  Open: 'open',
  RemoveDb: 'remove',
  Backup: 'none',
};

export class SqliteActions {
  private readonly replies: DbReplies<SqliteRequest, SqliteError>;

  constructor(private readonly p: SqliteParts) {
    this.replies = {
      ctx: p.ctx,
      name: 'sqlite',
      parse: parseSqliteRequest,
      perform: (source, gen, r, blob) => this.perform(source, gen, r, blob),
      errorLine: (e, gen) => (gen === 0 ? sqliteErrorText(e, gen) : `sqlite: ${sqliteErrorText(e, gen)}`),
      errorBody: sqliteErrorBody,
      malformed: { kind: 'malformed' },
      notARequest: { kind: 'not-a-request' },
    };
  }

  handle(km: KernelMessage, gen: Generation): void {
    answerDbRequest(this.replies, km, gen);
  }

  private perform(source: ProcessId, gen: Generation, { key, action }: SqliteRequest, blob: LazyLoadBlob | undefined): DbOutcome<SqliteError> {
    const { handles, txs } = this.p;
    const admitted = admitDbAction(this.p, source, gen, key, NEED[action.tag], action, (dir) => new SqliteDb(dir, key.db));
    if ('error' in admitted) return admitted;
    if ('failed' in admitted) return { error: { kind: 'sql', text: text(admitted.failed) } };
    const db = admitted.db;

    try {
      switch (action.tag) {
        case 'Open':
        case 'RemoveDb':
          return { body: sqliteOk() };
        case 'Query': {
          if (!READ_KEYWORDS.has(firstWord(action.query))) return { error: { kind: 'not-a-read-keyword' } };
          return { body: sqliteRead(), blob: db.query(action.query, parseParams(blob?.bytes)) };
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
