// The open databases of a module, least recently used closed first past a limit (the runtime
// keeps at most its fd-manager's share open and reopens transparently; so do we).

export interface Closable {
  close(): void;
}

export class OpenHandles<T extends Closable> {
  /** insertion order = use order (a hit is moved to the end) */
  private readonly open = new Map<string, T>();

  constructor(private readonly limit: number) {}

  /** the most recently used key: a hit on it is already in place (no delete and re-insert per request) */
  private last: string | undefined;

  /** The handle for `key`, opened with `opener` when not open. */
  get(key: string, opener: () => T): T {
    const hit = this.open.get(key);
    if (hit) {
      if (key !== this.last) {
        this.open.delete(key);
        this.open.set(key, hit);
        this.last = key;
      }
      return hit;
    }
    const h = opener();
    this.open.set(key, h);
    this.last = key;
    while (this.open.size > this.limit) {
      const [oldest, handle] = this.open.entries().next().value as [string, T];
      this.open.delete(oldest);
      handle.close();
    }
    return h;
  }

  /** Close `key` if open (before its files are removed). */
  close(key: string): void {
    const h = this.open.get(key);
    if (!h) return;
    this.open.delete(key);
    if (key === this.last) this.last = undefined;
    h.close();
  }

  values(): IterableIterator<T> {
    return this.open.values();
  }

  closeAll(): void {
    for (const h of this.open.values()) h.close();
    this.open.clear();
    this.last = undefined;
  }
}
