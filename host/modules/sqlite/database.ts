// One sqlite db: a better-sqlite3 connection on `<db dir>/<db>.db` in WAL mode (as the runtime
// opens it). synchronous=NORMAL rather than SQLite's FULL default: a commit survives a crash of
// the node, the last ones may be lost on power failure, and the kernel thread (this module runs
// on it) does not wait on an fsync per write. Statements run as rusqlite runs them: a write
// that returns rows fails after its first step ("Execute returned results"), a query that
// returns none runs and answers no rows, several statements in one text are refused.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bindArgs, paramSlots, ParamCountError, type ParamSlots } from './bind.js';
import type { BindValue } from './params.js';
import { layout, rowsJson, rowsJsonIn, type Layout } from './rows.js';
import { ReadBatch } from '../db/read-batch.js';

/** An error in rusqlite's words (the text of RusqliteError). */
export class SqlError extends Error {}

function sqlError(e: unknown): SqlError {
  if (e instanceof SqlError) return e;
  if (e instanceof ParamCountError) return new SqlError(e.message);
  const msg = (e as Error)?.message ?? String(e);
  if (e instanceof RangeError && /more than one statement/.test(msg)) return new SqlError('Multiple statements provided');
  return new SqlError(msg);
}

const STATEMENT_CACHE = 64;
/** a query that only reads rows: SELECT or VALUES first (a WITH may end in a write) */
const PLAIN_READ = /^\s*(?:SELECT|VALUES)\b/i;

interface Prepared {
  stmt: Database.Statement;
  params: ParamSlots;
  /** a reader's row layout (its column names, sorted as the answer writes them), valid while `epoch` is the db's */
  layout: Layout | undefined;
  width: number;
  epoch: number;
}

export class SqliteDb {
  private readonly db: Database.Database;
  /** prepared statements (with their parameter slots) by SQL text, least recently used dropped first */
  private readonly stmts = new Map<string, Prepared>();
  /** the SQL text of the most recently used statement: a hit on it is already in place */
  private lastSql: string | undefined;
  /**
   * Bumped by every statement that may change the schema: every Write and Commit, and every Query
   * that is not a plain reader (PRAGMA, ATTACH, a WITH … DELETE). Only this connection writes the
   * file, so between two bumps a reader's column names cannot change, and `stmt.columns()` (which
   * cost more than a one-row SELECT, docs/performance.md §18) is asked again only after one.
   */
  private epoch = 0;
  /** plain reads that arrive together share a read transaction (db/read-batch.ts); everything else ends it first */
  private readonly reads: ReadBatch;

  /** Opens (creating when absent) db `name` in directory `dir`. */
  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, `${name}.db`));
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.reads = new ReadBatch(this.db);
  }

  private prepare(sql: string): Prepared {
    let p = this.stmts.get(sql);
    if (p && sql === this.lastSql) return p;
    if (p) {
      this.stmts.delete(sql);
    } else {
      const stmt = this.db.prepare(sql);
      if (stmt.reader) stmt.raw(true).safeIntegers(true);
      p = { stmt, params: paramSlots(sql), layout: undefined, width: 0, epoch: -1 };
    }
    this.stmts.set(sql, p);
    this.lastSql = sql;
    if (this.stmts.size > STATEMENT_CACHE) this.stmts.delete(this.stmts.keys().next().value as string);
    return p;
  }

  /** The statement's row layout, asked of SQLite again after anything that may have changed the schema. */
  private layoutOf(p: Prepared, rows: unknown[][]): Layout {
    // a row of another width: the schema changed under us all the same (a program beside the node)
    if (p.layout === undefined || p.epoch !== this.epoch || (rows.length > 0 && rows[0]!.length !== p.width)) {
      const names = p.stmt.columns().map((c) => c.name);
      p.layout = layout(names);
      p.width = names.length;
      p.epoch = this.epoch;
    }
    return p.layout;
  }

  /** A Query: the rows as the runtime's JSON blob. Throws SqlError. */
  query(sql: string, values: BindValue[]): Uint8Array {
    try {
      const p = this.prepare(sql);
      const s = p.stmt;
      const args = bindArgs(p.params, values);
      if (!s.reader) {
        this.epoch++;
        this.reads.end();
        s.run(...args);
        return rowsJson([], []);
      }
      let rows: unknown[][];
      if (PLAIN_READ.test(sql)) rows = this.reads.read(() => s.all(...args) as unknown[][]);
      else {
        this.epoch++; // PRAGMA, ATTACH, EXPLAIN …: may touch the schema, and may not run inside a transaction
        this.reads.end();
        rows = s.all(...args) as unknown[][];
      }
      return rowsJsonIn(this.layoutOf(p, rows), rows);
    } catch (e) {
      throw sqlError(e);
    }
  }

  /** A Write outside a transaction. Throws SqlError. */
  write(sql: string, values: BindValue[]): void {
    try {
      this.execute(sql, values);
    } catch (e) {
      throw sqlError(e);
    }
  }

  private execute(sql: string, values: BindValue[]): void {
    this.epoch++;
    this.reads.end();
    const { stmt: s, params } = this.prepare(sql);
    const args = bindArgs(params, values);
    if (s.reader) {
      s.get(...args); // rusqlite steps once (an INSERT … RETURNING has inserted), then fails
      throw new SqlError('Execute returned results - did you mean to call query?');
    }
    s.run(...args);
  }

  /** Commit: the queued writes in one transaction (BEGIN DEFERRED, as rusqlite's). Throws SqlError. */
  commit(queued: Array<[string, BindValue[]]>): void {
    this.reads.end();
    try {
      this.db.exec('BEGIN DEFERRED');
      try {
        for (const [sql, values] of queued) this.execute(sql, values);
        this.db.exec('COMMIT');
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } catch (e) {
      throw sqlError(e);
    }
  }

  /** v0 Backup */
  checkpoint(): void {
    this.reads.end();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.reads.end();
    this.stmts.clear();
    this.lastSql = undefined;
    if (this.db.open) this.db.close();
  }
}
