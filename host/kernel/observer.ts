// A read-only view of the kernel for tools such as the homepage's live view: the process table
// (generation, running or restarting, restart count) and, only while someone listens, a tap on
// routed messages. With no tap set the kernel pays one field check per message.

import type { Generation, KernelMessage } from '../types.js';

export interface ProcessView {
  /** `process:package:publisher` */
  pid: string;
  generation: Generation;
  /** false between an exit and its on-exit Restart */
  running: boolean;
  /** on-exit restarts of this installation of the process */
  restarts: number;
  public: boolean;
  onExit: 'None' | 'Restart' | 'Requests';
}

/** Called for every message the kernel hands to a process or module (after the capability check). */
export type MessageTap = (km: KernelMessage, sourceKey: string, targetKey: string) => void;

export interface KernelObserver {
  processes(): ProcessView[];
  /** Whether `pid` (`p:k:pub`) names a process or a system module of this node. */
  has(pid: string): boolean;
  /** Set (or clear with undefined) the one message tap. */
  setMessageTap(tap: MessageTap | undefined): void;
  /**
   * A running process's memory as its worker last reported it (at most a second old): bytes of
   * its wasm linear memories and of its worker's JS heap (process/memory-gauge.ts).
   */
  memoryOf(pid: string): { wasm: number; heap: number } | undefined;
}
