// What a kernel is built with (its options and defaults) and what the process table holds per
// process that survives a restart of the node (the spec).

import type { Generation, OnExit, ProcessId } from '../types.js';
import type { PreparedComponent } from '../loader/transpile-cache.js';
import type { Drive } from '../package/drive.js';
import type { MailboxLimits } from './process-slot.js';
import type { ProcessLimits } from './spawn-rules.js';
import type { StateStore } from './state-store.js';

export interface ProcessSpec {
  pid: ProcessId;
  generation: Generation;
  /** drive path of the wasm, e.g. `/pkg:pub/pkg/x.wasm` */
  wasmPath: string;
  onExit: OnExit;
  public: boolean;
}

export interface KernelOptions {
  nodeName: string;
  printLine: (verbosity: number, line: string) => void;
  state: StateStore;
  drive: Drive;
  prepare: (bytes: Uint8Array, generation: Generation, label: string) => Promise<PreparedComponent>;
  onPersistNeeded: () => void;
  verbosity: number;
  limits?: { [K in keyof ProcessLimits]?: number | undefined };
  /** --max-process-memory: the worker's JS heap limit and the wasm memory cap (diagnosis) */
  maxProcessMemoryBytes?: number;
  /** bound of each process's mailbox (messages delivered and not yet taken) */
  mailbox?: MailboxLimits;
  /** false: every message goes through the kernel thread, no lanes (lane-broker.ts; default true) */
  lanes?: boolean;
}

export const DEFAULT_MAILBOX: MailboxLimits = { maxMessages: 10_000, maxBytes: 64 * 2 ** 20 };
