// One kv db: a SQLite file (`<db dir>/kv.sqlite3`) with one table of key → value blobs.
//
// Why SQLite rather than LMDB or LevelDB: the sqlite module needs better-sqlite3 anyway, so kv
// adds no second native dependency; it is ACID, one file per db, and a kv transaction (a queue
// of Set/Delete applied on Commit) maps onto one SQLite transaction. Keys compare as memcmp,
// like RocksDB's default comparator. WAL with synchronous=NORMAL: a write survives a crash of
// the node and the last ones may be lost on power failure — what the runtime's RocksDB (WAL
// without an fsync per write) gives — and the kernel thread does not wait on an fsync per Set.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupMember } from '../db/group-commit.js';

export type KvOp = { op: 'set'; key: Uint8Array; value: Uint8Array } | { op: 'delete'; key: Uint8Array };

// better-sqlite3 binds any Uint8Array as a blob (its view's bytes): no Buffer made per call

export class KvStore implements GroupMember {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[Uint8Array], Buffer>;
  private readonly setStmt: Database.Statement<[Uint8Array, Uint8Array]>;
  private readonly delStmt: Database.Statement<[Uint8Array]>;
  private readonly applyAll: (ops: KvOp[]) => void;
  private readonly beginStmt: Database.Statement;
  private readonly commitStmt: Database.Statement;
  private readonly rollbackStmt: Database.Statement;
  /** the module's group commit (db/group-commit.ts) settles the run's transaction before the db closes */
  beforeClose: (() => void) | undefined;
  /** the group commit's state of the current run on this db */
  groupRun: unknown = undefined;

  /** Opens (creating when absent) the db in directory `dir`. */
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, 'kv.sqlite3'));
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec('CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID');
      this.getStmt = this.db.prepare<[Uint8Array], Buffer>('SELECT value FROM kv WHERE key = ?').pluck();
      this.setStmt = this.db.prepare<[Uint8Array, Uint8Array]>('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
      this.delStmt = this.db.prepare<[Uint8Array]>('DELETE FROM kv WHERE key = ?');
      this.beginStmt = this.db.prepare('BEGIN');
      this.commitStmt = this.db.prepare('COMMIT');
      this.rollbackStmt = this.db.prepare('ROLLBACK');
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.applyAll = this.db.transaction((ops: KvOp[]) => {
      for (const o of ops) {
        if (o.op === 'set') this.setStmt.run(o.key, o.value);
        else this.delStmt.run(o.key);
      }
    });
  }

  // get / set / delete run in the transaction open on the connection (the module's group:
  // db/group-commit.ts), else each in its own (autocommit: the library called directly)

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getStmt.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.setStmt.run(key, value);
  }

  delete(key: Uint8Array): void {
    this.delStmt.run(key);
  }

  get inTransaction(): boolean {
    return this.db.open && this.db.inTransaction;
  }

  begin(): void {
    this.beginStmt.run();
  }

  commit(): void {
    this.commitStmt.run();
  }

  rollback(): void {
    this.rollbackStmt.run();
  }

  /** All of `ops` in one SQLite transaction: all applied, or none. */
  apply(ops: KvOp[]): void {
    this.applyAll(ops);
  }

  /** v0 Backup: fold the WAL into the db file. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.beforeClose?.();
    if (this.db.open) this.db.close();
  }
}
