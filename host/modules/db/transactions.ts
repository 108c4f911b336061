// Open transactions of kv or sqlite: queued operations under a random u64 id, in memory only
// (as in the runtime, an uncommitted transaction is gone after a restart). Ids are global:
// Commit applies the queue to whichever db the Commit request names.

import { randomFillSync } from 'node:crypto';

export class Transactions<Op> {
  private readonly txs = new Map<bigint, Op[]>();

  begin(): bigint {
    const buf = new BigUint64Array(1);
    do randomFillSync(buf);
    while (this.txs.has(buf[0]!));
    this.txs.set(buf[0]!, []);
    return buf[0]!;
  }

  /** The queue of `id`, or undefined when there is no such transaction. */
  get(id: bigint): Op[] | undefined {
    return this.txs.get(id);
  }

  /** The queue of `id`, created when missing (sqlite's Write does this with an unknown id). */
  getOrCreate(id: bigint): Op[] {
    let q = this.txs.get(id);
    if (!q) this.txs.set(id, (q = []));
    return q;
  }

  /** Remove and return the queue of `id` (Commit). */
  take(id: bigint): Op[] | undefined {
    const q = this.txs.get(id);
    this.txs.delete(id);
    return q;
  }
}
