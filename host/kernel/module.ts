// The contract between the kernel and an in-host system module (http-server, http-client, ...).
// A module is addressed like a process, under one name per generation, and speaks to
// processes only through the kernel, so capability checks and era naming apply to it too.

import type { KernelObserver } from './observer.js';
import type { Address, Capability, Generation, KernelMessage, LazyLoadBlob, Message, ProcessId, Response } from '../types.js';

export interface ModuleNames {
  /** e.g. `http_server:distro:sys` */
  v0: string;
  /** e.g. `http-server:distro:sys` */
  v1: string;
}

/** An outgoing message from a module. The kernel fills `source` with the era-correct module name. */
export interface ModuleSend {
  target: Address;
  message: Message;
  lazyLoadBlob?: LazyLoadBlob | undefined;
  /** defaults to a fresh random u64 */
  id?: bigint;
  rsvp?: Address | undefined;
  /** called (synchronously, inside send) when the target process's mailbox is full and refuses the message */
  onMailboxFull?: (() => void) | undefined;
  /**
   * The module already holds this message's bytes against a budget of its own (http-server's
   * body budget): the target's mailbox bounds it by message count, not again by bytes.
   */
  bytesBudgeted?: boolean | undefined;
}

export interface ModuleContext {
  /** our node name */
  readonly node: string;
  /**
   * Route a message from this module. Subject to the capability check (the module must hold the
   * target's messaging capability unless the target is public). Dropped messages vanish silently:
   * modules get no kernel timers and no send-errors; they time out on their own. The one
   * exception: a target whose mailbox is full calls the message's `onMailboxFull`.
   * Returns the message id used.
   */
  send(msg: ModuleSend): bigint;
  /**
   * Answer `req` (to its rsvp, else its source, with its id). `onMailboxFull` as in `send`: called
   * when the target's full mailbox refuses the answer.
   */
  respond(req: KernelMessage, response: Response, blob?: LazyLoadBlob | undefined, onMailboxFull?: () => void): void;
  /** Generation of a running (or initialized) process, undefined if unknown. */
  generationOf(pid: ProcessId): Generation | undefined;
  /** Terminal print, prefixed like a process print, subject to the verbosity filter. */
  print(verbosity: number, text: string): void;
  /** A read-only view of the process table and (on demand) of routed messages (absent in unit-test contexts). */
  readonly observer?: KernelObserver;
  /** Called whenever a process instance ends (exit, trap, kill, reinstall). */
  onProcessExit(listener: (pid: ProcessId) => void): void;
  /**
   * The capability oracle (as the runtime's modules ask the kernel "has"/"add"): does `holder`
   * hold `cap` (params compared as parsed JSON)? Modules never touch the kernel's tables.
   */
  hasCapability(holder: ProcessId, cap: Capability): boolean;
  /** Add capabilities to `holder` (e.g. vfs's CreateDrive grants read+write on the new drive). */
  grantCapabilities(holder: ProcessId, caps: Capability[]): void;
  /** Remove capabilities from `holder`. */
  dropCapabilities(holder: ProcessId, caps: Capability[]): void;
}

export interface SystemModule {
  readonly names: ModuleNames;
  /** Whether any local process may message it without a capability (timer is public; http-* are not). */
  readonly public: boolean;
  /** Called once when the node boots, before any process runs. */
  start(ctx: ModuleContext): Promise<void> | void;
  /**
   * A message for this module (source already resolved from `our`). `senderGeneration` tells which
   * wire shapes (v0 or v1 enums) the sender speaks.
   */
  handle(km: KernelMessage, senderGeneration: Generation): void;
  /** Node shutdown: close sockets, clear timers. */
  stop(): Promise<void> | void;
}
