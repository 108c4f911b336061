// The kernel's process table: one record per process (running or not), keyed by its id text.
// The record is what the kernel keeps about a process between instances — its spec, its slot
// (the current instance's worker and mailbox), restart bookkeeping — and the table gives the
// views other parts read (the spec list that persists, the observer's summary).

import type { Address, ProcessId } from '../types.js';
import { addrStr, pidStr } from './address.js';
import type { ProcessSpec } from './kernel-options.js';
import type { ProcessView } from './observer.js';
import type { ProcessSlot } from './process-slot.js';
import { RestartBackoff } from './restart-backoff.js';

export interface ProcessRecord extends ProcessSpec {
  key: string;
  /** its address and the address's text, built once: every message it sends needs them */
  address: Address;
  addrText: string;
  slot: ProcessSlot;
  running: boolean;
  backoff: RestartBackoff;
  pendingCalls: number;
  restarts: number;
  /**
   * The wasm's bytes as the install that created this record just wrote them to the drive
   * (stagePackage): the first run takes them instead of reading the file back. Only the record
   * the install initialized holds them, so a later install's record never starts from them.
   */
  stagedWasm?: Uint8Array | undefined;
}

export class ProcessTable {
  private readonly byKey = new Map<string, ProcessRecord>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): ProcessRecord | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  values(): IterableIterator<ProcessRecord> {
    return this.byKey.values();
  }

  /** A new, not yet running record for `spec` at `address`; throws when the id is taken. */
  add(spec: ProcessSpec, address: Address, slot: ProcessSlot, stagedWasm: Uint8Array | undefined): ProcessRecord {
    const key = pidStr(spec.pid);
    if (this.byKey.has(key)) throw new Error(`process ${key} already exists`);
    const rec: ProcessRecord = {
      ...spec,
      key,
      address,
      addrText: addrStr(address),
      slot,
      running: false,
      backoff: new RestartBackoff(),
      pendingCalls: 0,
      restarts: 0,
      stagedWasm,
    };
    this.byKey.set(key, rec);
    return rec;
  }

  /** Drops `rec` if it is still the record under its key; false when it was already replaced or gone. */
  delete(rec: ProcessRecord): boolean {
    if (this.byKey.get(rec.key) !== rec) return false;
    this.byKey.delete(rec.key);
    return true;
  }

  /** `rec` is still the table's record for its id (not killed or replaced meanwhile). */
  current(rec: ProcessRecord): boolean {
    return this.byKey.get(rec.key) === rec;
  }

  specs(): ProcessSpec[] {
    return [...this.byKey.values()].map(({ pid, generation, wasmPath, onExit, public: p }) => ({
      pid,
      generation,
      wasmPath,
      onExit,
      public: p,
    }));
  }

  summaries(): ProcessView[] {
    return [...this.byKey.values()].map((r) => ({
      pid: r.key,
      generation: r.generation,
      running: r.running,
      restarts: r.restarts,
      public: r.public,
      onExit: r.onExit.tag === 'none' ? 'None' : r.onExit.tag === 'restart' ? 'Restart' : 'Requests',
    }));
  }

  generationOf(pid: ProcessId): ProcessSpec['generation'] | undefined {
    return this.byKey.get(pidStr(pid))?.generation;
  }
}
