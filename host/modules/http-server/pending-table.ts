// The HTTP requests waiting for a process's answer, by message id, in insertion order (which is
// deadline order: every entry waits the same time).
//
// Why not a Map<bigint, Pending> (what this was): a Map that keeps taking and dropping entries
// rehashes into a fresh table every few hundred operations, and V8 links each dropped table to
// its successor (for iterators that may still walk it). Once one of those tables has been
// promoted to the old generation and dropped, every young-generation collection keeps the next
// table alive through that link, and with it every value the table held: the ServerResponse,
// its IncomingMessage and the headers of each request in flight when the table was current. So
// every request survived two scavenges and was promoted — ~2 KB per request copied twice and
// collected only by a mark-compact, scavenge pauses of 10–40 ms under load (the p99 of bench
// section 1; docs/performance.md "HTTP p99"). Here the Map holds only small integers (slot
// numbers): a retained chain of tables holds no request.

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
