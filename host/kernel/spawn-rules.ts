// What the kernel checks before a process spawns a child, as the runtime does: the caller may
// read the wasm (its own package's drives need no cap), the child's name is well formed (and
// Kimap-safe for v1), and the node's process limits leave room (issue 11.4).

import type { Capability, Generation, ProcessId } from '../types.js';
import { isKimapSafe, isWellFormedPid, packageStr } from './address.js';

/** Caps on live processes (issue 11.4): `spawn` past either fails with `name-taken`. */
export interface ProcessLimits {
  /** processes of one package (`--max-processes-per-package`) */
  maxPerPackage: number;
  /** processes on the node (`--max-processes`) */
  maxTotal: number;
}

export const DEFAULT_PROCESS_LIMITS: ProcessLimits = { maxPerPackage: 256, maxTotal: 4096 };

/** The spawn path as the runtime reads it: absolute, with its drive (`/pkg:pub/drive`). */
export function spawnPath(wasmPath: string, driveOf: (path: string) => string | undefined): { path: string; drive: string | undefined } {
  const path = wasmPath.startsWith('/') ? wasmPath : `/${wasmPath}`;
  return { path, drive: driveOf(path) };
}

/** The vfs read cap a caller needs for a drive outside its own package. */
export function driveReadCap(vfs: { node: string; process: ProcessId }, drive: string): Capability {
  return { issuer: vfs, params: JSON.stringify({ kind: 'read', drive }) };
}

export function isOwnPackageDrive(drive: string, parent: ProcessId): boolean {
  return drive.split('/')[1] === packageStr(parent);
}

/** The child's id; throws (the spawn call fails) on a name the runtime refuses. */
export function childPid(parent: ProcessId, name: string, generation: Generation): ProcessId {
  const child: ProcessId = { processName: name, packageName: parent.packageName, publisherNode: parent.publisherNode };
  if (generation === 1 && !isKimapSafe(child)) throw new Error(`spawn: process name "${name}" is not Kimap-safe`);
  if (!isWellFormedPid(child)) throw new Error(`spawn: bad process name "${name}"`);
  return child;
}

/** Why one more process of `pid`'s package would exceed a limit, or undefined. */
export function processLimitReached(limits: ProcessLimits, live: Iterable<{ pid: ProcessId }>, liveCount: number, pid: ProcessId): string | undefined {
  const { maxPerPackage, maxTotal } = limits;
  if (liveCount >= maxTotal) return `the node has ${liveCount} processes (--max-processes ${maxTotal})`;
  const pkg = packageStr(pid);
  let n = 0;
  for (const r of live) if (packageStr(r.pid) === pkg) n++;
  if (n >= maxPerPackage) return `package ${pkg} has ${n} processes (--max-processes-per-package ${maxPerPackage})`;
  return undefined;
}
