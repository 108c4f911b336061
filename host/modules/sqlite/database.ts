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
import { rowsJson } from './rows.js';

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

interface Prepared {
  stmt: Database.Statement;
  params: ParamSlots;
}

export class SqliteDb {
  private readonly db: Database.Database;
  /** prepared statements (with their parameter slots) by SQL text, least recently used dropped first */
  private readonly stmts = new Map<string, Prepared>();

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
  }

  private prepare(sql: string): Prepared {
    let p = this.stmts.get(sql);
    if (p) {
      this.stmts.delete(sql);
    } else {
      const stmt = this.db.prepare(sql);
      if (stmt.reader) stmt.raw(true).safeIntegers(true);
      p = { stmt, params: paramSlots(sql) };
    }
    this.stmts.set(sql, p);
    if (this.stmts.size > STATEMENT_CACHE) this.stmts.delete(this.stmts.keys().next().value as string);
    return p;
  }

  /** A Query: the rows as the runtime's JSON blob. Throws SqlError. */
  query(sql: string, values: BindValue[]): Uint8Array {
    try {
      const { stmt: s, params } = this.prepare(sql);
      const args = bindArgs(params, values);
      if (!s.reader) {
        s.run(...args);
        return rowsJson([], []);
      }
      const rows = s.all(...args) as unknown[][];
      return rowsJson(
        s.columns().map((c) => c.name),
        rows,
      );
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
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.stmts.clear();
    if (this.db.open) this.db.close();
  }
}
