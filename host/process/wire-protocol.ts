// Messages between a process worker and the kernel on the main thread.
// Worker -> kernel travel in the out-ring (or its outbox port, in sequence; ring.ts) with a
// doorbell on parentPort; kernel -> worker deliveries in the in-ring (or its inbox port) and call
// replies on the replies port, each followed by a bump of a shared counter the worker parks on
// with Atomics.wait.

import type { MessagePort } from 'node:worker_threads';
import type { Address, Capability, Delivery, KernelMessage, OnExit, ProcessId } from '../types.js';

/** An outgoing message as the worker composed it; the kernel fills in `source`. */
export interface OutboundMessage {
  km: Omit<KernelMessage, 'source'>;
}

/** `send` travels as a bare Uint8Array (message-codec.ts's encodeOutgoing); the slot decodes it. */
export type WorkerToKernel =
  | { t: 'send'; items: Array<Omit<KernelMessage, 'source'>> }
  | { t: 'print'; verbosity: number; text: string; /** kernel's own words: no package prefix */ raw?: boolean }
  | { t: 'on-exit'; onExit: OnExit }
  | { t: 'save-caps'; caps: Capability[] }
  | { t: 'drop-caps'; caps: Capability[] }
  | { t: 'call'; seq: number; call: KernelCall }
  | { t: 'started' }
  /** the process first waits for a message: its start is over (the slot's, not the kernel's; worker-pool.ts) */
  | { t: 'booted' }
  | { t: 'ended'; outcome: 'returned' | 'trapped' | 'failed-to-instantiate'; detail: string }
  /** the worker took lane `id` (KernelControl 'lane-offer'): its reader may be told */
  | { t: 'lane-adopt'; id: number }
  /** the worker stopped writing to lane `id` (its end mark is the lane's last item) */
  | { t: 'lane-ended'; id: number };

export type KernelCall =
  | { op: 'get-state' }
  | { op: 'set-state'; bytes: Uint8Array }
  | { op: 'clear-state' }
  | { op: 'our-capabilities' }
  | {
      op: 'spawn';
      name: string | undefined;
      wasmPath: string;
      onExit: OnExit;
      requestCapabilities: Capability[];
      grant: Array<[ProcessId, string]>;
      public: boolean;
    };

export type CallReply = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: string };

export type InboxItem = Delivery;

export interface WorkerInit {
  our: Address;
  generation: 0 | 1;
  jsPath: string;
  importKeys: string[];
  /** undefined when they are still compiling: they follow on parentPort as `{ coreModules }` */
  coreModules: Record<string, WebAssembly.Module> | undefined;
  signal: SharedArrayBuffer;
  /** kernel -> worker deliveries (ring.ts); `inbox` takes what the ring cannot */
  inRing: SharedArrayBuffer;
  /** worker -> kernel sends and posts (ring.ts); `outbox` takes what the ring cannot */
  outRing: SharedArrayBuffer;
  inbox: MessagePort;
  replies: MessagePort;
  /** worker -> kernel, drained by the kernel on a doorbell (the number 0 on parentPort) */
  outbox: MessagePort;
  tmpDir: string | undefined;
  onExit: OnExit;
  /** prints above this are dropped in the worker, saving a post per filtered print */
  verbosity: number;
  /** --max-process-memory, to tell a trap at the memory cap from other traps */
  maxMemoryBytes: number | undefined;
  /** µs cap of a worker's spin inside an await (process/await-spin.ts; 0: none) */
  spinCapUs: number;
  /** shared by every worker of the node: [0] 1 while no core is spare, [1..] the spin seats (park.ts) */
  spinners: SharedArrayBuffer;
  /** this worker's id in a spin seat (> 0) */
  spinId: number;
}

/**
 * Kernel -> worker, in sequence with the deliveries (as port objects: they carry shared
 * memory and a port). A lane is a one-way path from one process's worker straight to another's
 * (process/lanes.ts, kernel/lane-broker.ts).
 */
export type KernelControl =
  | {
      /** to the writer: you may send to `peer` over this lane */
      t: 'lane-offer';
      id: number;
      peer: Address;
      ring: SharedArrayBuffer;
      ctl: SharedArrayBuffer;
      port: MessagePort;
      /** the peer's signal cells (park.ts), to wake it */
      peerSignal: SharedArrayBuffer;
      /** this lane's share of the peer's mailbox bound: more than this not yet taken ends the lane (the kernel then refuses) */
      maxMessages: number;
      maxBytes: number;
    }
  | {
      /** to the reader: what `peer` sends you arrives over this lane from here on */
      t: 'lane-open';
      id: number;
      peer: Address;
      ring: SharedArrayBuffer;
      ctl: SharedArrayBuffer;
      port: MessagePort;
    };

export const isKernelControl = (m: unknown): m is KernelControl => {
  const t = (m as { t?: unknown } | undefined)?.t;
  return t === 'lane-offer' || t === 'lane-open';
};
