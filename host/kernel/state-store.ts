// Process state (`get/set/clear-state`), one file per process id under <home>/state, written
// atomically (temp file + rename) so a crash never leaves half a state behind.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(pid: string): string {
    return join(this.dir, `${encodeURIComponent(pid)}.bin`);
  }

  get(pid: string): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.file(pid)));
    } catch {
      return undefined;
    }
  }

  set(pid: string, bytes: Uint8Array): void {
    const f = this.file(pid);
    const tmp = `${f}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, f);
  }

  clear(pid: string): void {
    rmSync(this.file(pid), { force: true });
  }
}
