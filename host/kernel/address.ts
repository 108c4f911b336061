// Address / ProcessId text forms, parsed exactly like the Kinode runtime (split on ':' into
// exactly three non-empty parts; one '@' between node and process).

import { createRequire } from 'node:module';
import type { Address, Capability, PackageId, ProcessId } from '../types.js';

export class IdParseError extends Error {}

export function parseProcessId(s: string): ProcessId {
  const parts = s.split(':');
  if (parts.length < 3) throw new IdParseError(`missing field in process id "${s}"`);
  if (parts.length > 3) throw new IdParseError(`too many colons in process id "${s}"`);
  if (parts.some((p) => p.length === 0)) throw new IdParseError(`empty field in process id "${s}"`);
  return { processName: parts[0]!, packageName: parts[1]!, publisherNode: parts[2]! };
}

export function parseAddress(s: string): Address {
  const at = s.split('@');
  if (at.length !== 2 || at[0]!.length === 0) throw new IdParseError(`bad address "${s}"`);
  return { node: at[0]!, process: parseProcessId(at[1]!) };
}

export function parsePackageId(s: string): PackageId {
  const parts = s.split(':');
  if (parts.length !== 2 || parts.some((p) => p.length === 0)) throw new IdParseError(`bad package id "${s}"`);
  return { packageName: parts[0]!, publisherNode: parts[1]! };
}

export const pidStr = (p: ProcessId): string => `${p.processName}:${p.packageName}:${p.publisherNode}`;
export const addrStr = (a: Address): string => `${a.node}@${pidStr(a.process)}`;
export const packageStr = (p: ProcessId | PackageId): string => `${p.packageName}:${p.publisherNode}`;

/** A process id that the parser would accept back (fields non-empty, no ':' inside). */
export function isWellFormedPid(p: ProcessId): boolean {
  return [p.processName, p.packageName, p.publisherNode].every((f) => typeof f === 'string' && f.length > 0 && !f.includes(':'));
}

export function isWellFormedAddress(a: Address): boolean {
  return typeof a?.node === 'string' && a.node.length > 0 && !a.node.includes('@') && isWellFormedPid(a.process);
}

const KIMAP_NAME = /^[a-z0-9-]+$/;
const KIMAP_PUBLISHER = /^[a-z0-9.-]+$/;
/** v1's "Kimap-safe" rule for process ids. */
export function isKimapSafe(p: ProcessId): boolean {
  return KIMAP_NAME.test(p.processName) && KIMAP_NAME.test(p.packageName) && KIMAP_PUBLISHER.test(p.publisherNode);
}

export const samePid = (a: ProcessId, b: ProcessId): boolean =>
  a.processName === b.processName && a.packageName === b.packageName && a.publisherNode === b.publisherNode;

export const sameAddress = (a: Address, b: Address): boolean => a.node === b.node && samePid(a.process, b.process);

const canonicalMemo = new Map<string, string>();

/** Canonical JSON text (sorted keys) so params compare as parsed JSON, like the runtime. */
export function canonicalJson(text: string): string {
  const hit = canonicalMemo.get(text);
  if (hit !== undefined) return hit;
  let out: string;
  try {
    out = JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    out = text;
  }
  // params texts repeat endlessly ("messaging"); keep the memo bounded all the same
  if (canonicalMemo.size > 10000) canonicalMemo.clear();
  canonicalMemo.set(text, out);
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * A capability's identity as text. Kept per capability object: a module asks about the same
 * object on every request (kv's and sqlite's per-db caps), and a fresh key string would be built
 * and hashed each time (~1 µs per kv / sqlite operation here). Capabilities are never mutated.
 */
const capKeys = new WeakMap<Capability, string>();
export function capKey(c: Capability): string {
  let k = capKeys.get(c);
  if (k === undefined) capKeys.set(c, (k = `${addrStr(c.issuer)}|${canonicalJson(c.params)}`));
  return k;
}

export const MESSAGING = '"messaging"';
export const NETWORK = '"network"';

// node:crypto is loaded on the first id taken, not at import: every process worker imports this
// file, and a process that only answers requests never takes one (its ids are inherited); the
// module costs each worker ~0.15 MiB and some boot CPU (docs/performance.md, lean WASI layer).
let randomFillSync: ((buf: BigUint64Array) => unknown) | undefined;

/** Random u64 ids, drawn from the CSPRNG in batches (one syscall per 512 ids). */
export class IdSource {
  private readonly buf = new BigUint64Array(512);
  private next = this.buf.length;

  take(): bigint {
    if (this.next === this.buf.length) {
      randomFillSync ??= (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomFillSync;
      randomFillSync(this.buf);
      this.next = 0;
    }
    return this.buf[this.next++]!;
  }
}
