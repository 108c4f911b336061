// Reads that arrive together share one SQLite read transaction. Outside a transaction every
// statement opens and closes its own: in WAL mode that is two fcntl locks on the -shm file and a
// stat of the db per statement, ~10 µs of a 12 µs kv Get on this VM against ~2 µs for the same Get
// inside an open transaction (docs/performance.md §18). The kernel hands a module every request a
// process sent in one go, synchronously; the first read of such a run opens a read transaction and
// a microtask closes it once the run is over, so the transaction is never open while the event
// loop waits.
//
// Only reads join it: a write (and anything that is not a plain read) closes it first and then
// runs in its own transaction as before, so a write is committed before its answer is sent,
// exactly as without the batch. A read inside sees the db as of the run's first read; only this
// connection writes the file, and any write ends the batch first, so it sees every earlier write.
// A transaction someone else opened on the connection (a Query "BEGIN") is left alone.

import type Database from 'better-sqlite3';

export class ReadBatch {
  private open = false;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
  }

  /** Run the read `fn` inside the batch's transaction (opened now if none is open). */
  read<T>(fn: () => T): T {
    if (!this.open && !this.db.inTransaction) {
      this.begin.run();
      this.open = true;
      queueMicrotask(this.end);
    }
    return fn();
  }

  /** Close the batch's transaction, if open (before a write, a non-read statement, or close). */
  readonly end = (): void => {
    if (!this.open) return;
    this.open = false;
    if (!this.db.open || !this.db.inTransaction) return; // SQLite may have ended it on an error
    try {
      this.commit.run();
    } catch {
      // a read-only transaction holds nothing to lose: drop it
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* already gone */
      }
    }
  };
}
