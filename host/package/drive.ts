// The package drives (`/<package>:<publisher>/pkg/...`) and per-package tmp dirs under
// <home>/vfs, as the Kinode VFS lays them out. Paths are confined to the vfs root.

import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import type { ProcessId } from '../types.js';
import { packageStr } from '../kernel/address.js';

export class Drive {
  readonly root: string;

  constructor(home: string) {
    this.root = join(home, 'vfs');
    mkdirSync(this.root, { recursive: true });
  }

  /** Host path for a drive path, or undefined if it escapes the vfs root. */
  hostPath(drivePath: string): string | undefined {
    const rel = normalize(drivePath.startsWith('/') ? drivePath.slice(1) : drivePath);
    if (rel.startsWith('..') || rel.includes(`${sep}..${sep}`) || rel === '..') return undefined;
    return join(this.root, rel);
  }

  /** `/pkg:pub/pkg/x.wasm` -> `/pkg:pub/pkg` */
  driveOf(drivePath: string): string | undefined {
    const parts = drivePath.split('/').filter((p) => p.length > 0);
    if (parts.length < 3) return undefined;
    return `/${parts[0]}/${parts[1]}`;
  }

  async read(drivePath: string): Promise<Uint8Array | undefined> {
    const p = this.hostPath(drivePath);
    if (!p) return undefined;
    try {
      return ownedBytes(await readFile(p));
    } catch {
      return undefined;
    }
  }

  packageDir(pkg: string): string {
    return join(this.root, pkg, 'pkg');
  }

  /** The process's preopened tmp dir (created on demand; undefined if that fails, as in the runtime). */
  tmpDir(pid: ProcessId): string | undefined {
    const dir = join(this.root, packageStr(pid), 'tmp');
    try {
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      return undefined;
    }
  }
}

/**
 * A Buffer from readFile as a plain Uint8Array: a view when the Buffer owns its whole
 * ArrayBuffer (any file past Node's small-buffer pool), a copy otherwise. `new Uint8Array(buf)`
 * always copies, and for a 12 MB component that fresh copy cost more than the read itself
 * (docs/performance.md, JS start).
 */
export function ownedBytes(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer, 0, b.byteLength) : new Uint8Array(b);
}
