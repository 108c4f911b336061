// Entries keyed by a u64 message id (a bigint), for tables that take and drop an entry per
// message: the kernel's expects-response timers (request-timers.ts) and a process's outstanding
// requests (process/process-host.ts).
//
// Why not a Map<bigint, …> (or PendingTable's Map of slot numbers): a Map whose live count swings
// with the batches (64 requests in flight, ~30 answered per batch) grows and shrinks its hash
// table every few dozen operations, and each resize allocates a new table and rehashes every
// bigint key: 6–8 % of the kernel thread's CPU in the Rust pair (docs/performance.md §31). Here
// the arrays only grow, to twice the largest count seen; a deleted slot is filled by moving the
// entries after it back (no tombstones), and the hash folds the id's two 32-bit halves, read
// through a typed array, which allocates nothing.

const EMPTY = undefined;
const INITIAL = 16;

export class IdTable<T> {
  private keys: Array<bigint | undefined> = new Array<bigint | undefined>(INITIAL).fill(EMPTY);
  private vals: Array<T | undefined> = new Array<T | undefined>(INITIAL).fill(undefined);
  private mask = INITIAL - 1;
  private count = 0;
  /** scratch for the hash: a bigint stored as u64, read back as two u32 */
  private static readonly u64 = new BigUint64Array(1);
  private static readonly u32 = new Uint32Array(IdTable.u64.buffer);

  get size(): number {
    return this.count;
  }

  private slotOf(id: bigint): number {
    IdTable.u64[0] = id;
    const h = Math.imul(IdTable.u32[0]! ^ IdTable.u32[1]!, 0x9e3779b1);
    return (h >>> 0) & this.mask;
  }

  /** The slot holding `id`, or -1. */
  private find(id: bigint): number {
    for (let i = this.slotOf(id); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === EMPTY) return -1;
      if (k === id) return i;
    }
  }

  get(id: bigint): T | undefined {
    const i = this.find(id);
    return i < 0 ? undefined : this.vals[i];
  }

  /** Adds or replaces the entry for `id`; returns the entry it replaced. */
  set(id: bigint, value: T): T | undefined {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    let i = this.slotOf(id);
    for (;;) {
      const k = this.keys[i];
      if (k === EMPTY) break;
      if (k === id) {
        const old = this.vals[i];
        this.vals[i] = value;
        return old;
      }
      i = (i + 1) & this.mask;
    }
    this.keys[i] = id;
    this.vals[i] = value;
    this.count++;
    return undefined;
  }

  /** Removes and returns the entry. */
  delete(id: bigint): T | undefined {
    let i = this.find(id);
    if (i < 0) return undefined;
    const v = this.vals[i];
    this.count--;
    // backward-shift deletion: move each later entry of the run into the hole if its home slot
    // does not lie (cyclically) between the hole and its own slot
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const k = this.keys[j];
      if (k === EMPTY) break;
      const home = this.slotOf(k);
      if (((j - home) & this.mask) >= ((j - i) & this.mask)) {
        this.keys[i] = k;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.keys[i] = EMPTY;
    this.vals[i] = undefined;
    return v;
  }

  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY) out.push(this.vals[i]!);
    return out;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Array<bigint | undefined>(keys.length * 2).fill(EMPTY);
    this.vals = new Array<T | undefined>(keys.length * 2).fill(undefined);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, vals[i]!);
  }
}
