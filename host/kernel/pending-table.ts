// Things waiting on a message id (the HTTP requests waiting for a process's answer, the
// expects-response timers of requests in flight), by id, in insertion order.
//
// Why not a Map<bigint, Pending> (what the HTTP path had): a Map that keeps taking and dropping entries
// rehashes every few dozen operations (deleted entries fill its table), and V8's rehash copies
// the live entries into a new table without clearing them from the dropped one (which it keeps
// linked to its successor for iterators). Once the Map lives in the old generation its tables
// do too, and a dropped old table is reclaimed only by a mark-compact: until then each
// young-generation collection treats its slots as roots. So every request that was in flight at
// one of the rehashes (its ServerResponse, IncomingMessage, headers) survived scavenge after
// scavenge and was promoted — ~2 KB per request copied twice, scavenge pauses of 10–40 ms under
// load (the p99 of bench section 1; docs/performance.md §12). Here the Map holds only small
// integers (slot numbers): a dropped table holds no request (nor a request's blob).

export class PendingTable<T> {
  /** id -> slot number, in insertion order */
  private readonly index = new Map<bigint, number>();
  private readonly slots: Array<T | undefined> = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get(id: bigint): T | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.slots[i];
  }

  /** Adds `value` at the back (an existing entry with this id is dropped first). */
  set(id: bigint, value: T): void {
    this.delete(id);
    const i = this.free.length > 0 ? this.free.pop()! : this.slots.length;
    this.slots[i] = value;
    this.index.set(id, i);
  }

  /** Removes and returns the entry. */
  delete(id: bigint): T | undefined {
    const i = this.index.get(id);
    if (i === undefined) return undefined;
    this.index.delete(id);
    const v = this.slots[i];
    this.slots[i] = undefined;
    this.free.push(i);
    return v;
  }

  /** The oldest entry, or undefined when empty. */
  oldest(): [bigint, T] | undefined {
    for (const [id, i] of this.index) return [id, this.slots[i]!];
    return undefined;
  }

  values(): T[] {
    const out: T[] = [];
    for (const i of this.index.values()) out.push(this.slots[i]!);
    return out;
  }

  clear(): void {
    this.index.clear();
    this.slots.length = 0;
    this.free.length = 0;
  }
}
