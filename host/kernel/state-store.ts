// Process state, one file per process id under <home>/state, shared by the kernel's
// get/set/clear-state imports and the `state:distro:sys` module. Written atomically (temp file +
// rename) so a crash, even kill -9 mid-write, never leaves half a state behind. All I/O is
// asynchronous (fs/promises writes in chunks, so a 256 MiB state does not hold the main thread:
// issue 11.6), and the operations on one process id run one after another in the order they
// were asked for, so a later get sees an earlier set and two sets land in order.

import { mkdirSync } from 'node:fs';
import { cp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class StateStore {
  /** process id -> the tail of its queue of operations (removed when it drains) */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(pid: string): string {
    return join(this.dir, `${encodeURIComponent(pid)}.bin`);
  }

  /** Run `op` after every earlier operation on `pid` has settled. */
  private serial<T>(pid: string, op: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(pid) ?? Promise.resolve();
    const run = prev.then(op, op);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(pid, tail);
    void tail.then(() => {
      if (this.tails.get(pid) === tail) this.tails.delete(pid);
    });
    return run;
  }

  /** The stored bytes, or undefined if there are none (or they cannot be read). */
  get(pid: string): Promise<Uint8Array | undefined> {
    return this.serial(pid, async () => {
      try {
        return new Uint8Array(await readFile(this.file(pid)));
      } catch {
        return undefined;
      }
    });
  }

  set(pid: string, bytes: Uint8Array): Promise<void> {
    return this.serial(pid, async () => {
      const f = this.file(pid);
      const tmp = `${f}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, f);
    });
  }

  clear(pid: string): Promise<void> {
    return this.serial(pid, () => rm(this.file(pid), { force: true }));
  }

  /**
   * The state module's Backup: a copy of every stored state in `<dir>-backup` (replacing the
   * previous one), taken once the operations asked for so far have landed.
   */
  async backup(): Promise<void> {
    await this.idle();
    const to = `${this.dir}-backup`;
    await rm(to, { recursive: true, force: true });
    await cp(this.dir, to, { recursive: true, filter: (src) => !src.endsWith('.tmp') });
  }

  /** Resolves when every operation asked for so far has settled (node shutdown). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
