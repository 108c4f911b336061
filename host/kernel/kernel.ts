// The kernel: routing with capability checks, per-request timers, system modules, and the
// lifecycle of process instances (run, exit, on-exit, restart, spawn). It runs on the main
// thread and never blocks on a process: every process is a worker. Beside it: process-table (the
// records it keeps per process), module-table (module names per era), spawn-rules (spawn checks,
// process limits), capability-gate (messaging checks), kernel-options (its options and the spec).

import { spinCapFromEnv } from '../process/await-spin.js';
import type {
  Address,
  Capability,
  Delivery,
  Generation,
  KernelMessage,
  ProcessId,
} from '../types.js';
import { addrStr, IdSource, NETWORK, packageStr, parseProcessId, pidStr } from './address.js';
import { CapabilityStore } from './capabilities.js';
import { CapabilityGate } from './capability-gate.js';
import { LaneBroker } from './lane-broker.js';
import { MissingSystemNames } from './system-names.js';
import { pidText } from './pid-text.js';
import type { ModuleContext, ModuleSend, SystemModule } from './module.js';
import { ModuleTable, moduleSourceName, type ModuleEntry } from './module-table.js';
import type { KernelObserver, MessageTap } from './observer.js';
import { ProcessSlot } from './process-slot.js';
import { RequestTimers, type PendingTimer } from './request-timers.js';
import { ProcessTable, type ProcessRecord } from './process-table.js';
import {
  childPid,
  DEFAULT_PROCESS_LIMITS,
  driveReadCap,
  isOwnPackageDrive,
  processLimitReached,
  spawnPath,
  type ProcessLimits,
} from './spawn-rules.js';
import { WorkerPool } from './worker-pool.js';
import type { KernelCall, WorkerToKernel } from '../process/wire-protocol.js';
import type { PreparedComponent } from '../loader/transpile-cache.js';
import { KERNEL_NAMES, STATE_NAMES, VFS_NAMES } from '../wire/names.js';
import { DEFAULT_MAILBOX, type KernelOptions, type ProcessSpec } from './kernel-options.js';

/** Sources the runtime exempts from the capability check. */
const CAP_EXEMPT = new Set([KERNEL_NAMES.v1, STATE_NAMES.v1, VFS_NAMES.v1]);
const KERNEL_PID: ProcessId = parseProcessId(KERNEL_NAMES.v1);
const VFS_PID: ProcessId = parseProcessId(VFS_NAMES.v1);
/** setTimeout's limit; longer timeouts never fire in practice */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Kernel {
  readonly node: string;
  readonly caps: CapabilityStore;
  private readonly processes = new ProcessTable();
  private readonly modules = new ModuleTable();
  /** expects-response timers of requests in flight */
  private readonly timers = new RequestTimers((holder, id, p) => this.deliverTimeout(holder, id, p));
  private readonly exitListeners: Array<(pid: ProcessId) => void> = [];
  private readonly ids = new IdSource();
  private stopping = false;
  private readonly pool: WorkerPool;
  /** missing system modules already named in a print (each once; the name set is finite) */
  private readonly missingSystem = new MissingSystemNames();
  private readonly limits: ProcessLimits;
  /** set only while an observer listens (the homepage's live view) */
  private tap: MessageTap | undefined;
  /** messaging checks, attached caps, save-capabilities */
  private readonly gate: CapabilityGate;
  /** paths straight between two processes' workers (lane-broker.ts) */
  readonly lanes: LaneBroker;
  /** the read-only view handed to modules */
  readonly observer: KernelObserver = {
    processes: () => this.processes.summaries(),
    has: (pid) => this.processes.has(pid) || this.modules.has(pid),
    setMessageTap: (tap) => {
      this.tap = tap;
      this.lanes.setEnabled(tap === undefined);
    },
    memoryOf: (pid) => this.processes.get(pid)?.slot.memory(),
  };

  /** How a process's awaits went (process-slot.ts awaitStats; docs/performance.md §17); undefined when unknown. */
  awaitStatsOf(pid: string): ReturnType<ProcessRecord['slot']['awaitStats']> | undefined {
    return this.processes.get(pid)?.slot.awaitStats();
  }

  constructor(private readonly opts: KernelOptions) {
    spinCapFromEnv(); // a bad KINODE_AWAIT_SPIN_US stops the node's start with its name, not a process's
    this.node = opts.nodeName;
    this.pool = new WorkerPool(1, { maxMemoryBytes: opts.maxProcessMemoryBytes });
    this.caps = new CapabilityStore(() => {
      this.gate.storeChanged();
      this.lanes.recheck();
      opts.onPersistNeeded();
    });
    this.gate = new CapabilityGate(this.caps, this.node);
    this.lanes = new LaneBroker(opts.lanes ?? true, opts.mailbox ?? DEFAULT_MAILBOX, (w, r) => r.public || this.gate.mayMessage(w.key, r.key, r.pid));
    this.limits = {
      maxPerPackage: opts.limits?.maxPerPackage ?? DEFAULT_PROCESS_LIMITS.maxPerPackage,
      maxTotal: opts.limits?.maxTotal ?? DEFAULT_PROCESS_LIMITS.maxTotal,
    };
    this.pool.fill();
  }

  // ---------------------------------------------------------------- addresses and prints

  private addr(pid: ProcessId): Address {
    return { node: this.node, process: pid };
  }

  private messagingCap(pid: ProcessId): Capability {
    return this.gate.messagingCap(pid);
  }

  print(verbosity: number, line: string): void {
    this.opts.printLine(verbosity, line);
  }

  private processPrint(pid: ProcessId, verbosity: number, text: string): void {
    this.opts.printLine(verbosity, `${packageStr(pid)}: ${text}`);
  }

  private freshId(): bigint {
    return this.ids.take();
  }

  // ---------------------------------------------------------------- modules

  registerModule(module: SystemModule, opts: { capExempt?: boolean } = {}): void {
    this.modules.register(module, opts.capExempt ?? false);
  }

  async startModules(): Promise<void> {
    for (const entry of this.modules.entries()) await entry.module.start(this.moduleContext(entry));
  }

  private moduleContext(entry: ModuleEntry): ModuleContext {
    return {
      node: this.node,
      send: (msg) => this.sendFromModule(entry, msg),
      respond: (req, response, blob, onMailboxFull) =>
        void this.sendFromModule(entry, {
          id: req.id,
          target: req.rsvp ?? req.source,
          message: { tag: 'response', val: [response, undefined] },
          lazyLoadBlob: blob,
          onMailboxFull,
        }),
      generationOf: (pid) => this.processes.generationOf(pid),
      print: (v, text) => this.print(v, text),
      observer: this.observer,
      onProcessExit: (l) => this.exitListeners.push(l),
      hasCapability: (holder, cap) => this.caps.has(this.holderKey(pidText(holder)), cap),
      grantCapabilities: (holder, caps) => this.caps.add(this.holderKey(pidStr(holder)), caps),
      dropCapabilities: (holder, caps) => this.caps.remove(this.holderKey(pidStr(holder)), caps),
    };
  }

  /** Canonical holder key for a process id text (module aliases fold to one key). */
  holderKey(pid: string): string {
    return this.modules.holderKey(pid);
  }

  private newSlot(): ProcessSlot {
    return new ProcessSlot(this.pool, this.opts.mailbox ?? DEFAULT_MAILBOX);
  }

  private sendFromModule(entry: ModuleEntry, msg: ModuleSend): bigint {
    const id = msg.id ?? this.freshId();
    const target = this.resolveOur(msg.target);
    const targetGen = this.processes.get(pidText(target.process))?.generation;
    const km: KernelMessage = {
      id,
      source: this.addr(moduleSourceName(entry, targetGen)),
      target,
      rsvp: msg.rsvp,
      message: msg.message,
      lazyLoadBlob: msg.lazyLoadBlob,
    };
    this.route(km, { kind: 'module', entry, onMailboxFull: msg.onMailboxFull, bytesBudgeted: msg.bytesBudgeted });
    return id;
  }

  // ---------------------------------------------------------------- processes

  has(pid: ProcessId): boolean {
    return this.processes.has(pidStr(pid));
  }

  list(): ProcessSpec[] {
    return this.processes.specs();
  }

  /**
   * InitializeProcess: create the process (not yet running; messages to it are held).
   * It gets a messaging capability to itself, plus the given ones. `stagedWasm`: the bytes of
   * `spec.wasmPath` as just written, for the first run (consumed by it; see ProcessRecord).
   */
  initialize(spec: ProcessSpec, initialCaps: Capability[], stagedWasm?: Uint8Array): void {
    const { key } = this.processes.add(spec, this.addr(spec.pid), this.newSlot(), stagedWasm);
    this.caps.add(key, [this.messagingCap(spec.pid), ...initialCaps]);
    this.opts.onPersistNeeded();
  }

  /** The worker pool's spare has booted (worker-pool.ts `ready`; benches wait for it). */
  spareReady(): boolean {
    return this.pool.ready();
  }

  /** RunProcess: load the component and start its worker. Resolves false (with a print) on failure. */
  async run(pid: ProcessId): Promise<boolean> {
    const rec = this.processes.get(pidStr(pid));
    if (!rec || rec.running) return false;
    let prepared: PreparedComponent;
    try {
      // bytes handed over by the install are used once (prepare consumes them); restarts read the drive
      const staged = rec.stagedWasm;
      rec.stagedWasm = undefined;
      const bytes = staged ?? (await this.opts.drive.read(rec.wasmPath));
      if (!bytes) throw new Error(`${rec.wasmPath}: no such file`);
      prepared = await this.opts.prepare(bytes, rec.generation, rec.wasmPath);
    } catch (e) {
      this.print(0, `kernel: process ${rec.key} failed to instantiate: ${(e as Error).message}`);
      this.remove(rec, false);
      return false;
    }
    // killed, or the node stopping, meanwhile (a stopping node has terminated the slot: starting
    // it would post closed ports and take a worker from a stopped pool)
    if (!this.processes.current(rec) || rec.running || this.stopping) return false;
    this.startInstance(rec, prepared);
    // the core modules compile while the worker loads the glue (transpile-cache.ts); a warm
    // start's first compile in a node is most of its kernel-thread time (docs/performance.md §25)
    if (!prepared.coreModules) {
      try {
        rec.slot.setCoreModules(await prepared.compile());
      } catch (e) {
        if (this.processes.current(rec)) {
          this.print(0, `kernel: process ${rec.key} failed to instantiate: ${(e as Error).message}`);
          this.remove(rec, false);
        }
        return false;
      }
    }
    return true;
  }

  private startInstance(rec: ProcessRecord, prepared: PreparedComponent): void {
    rec.running = true;
    const slot = rec.slot;
    slot.start(
      {
        our: rec.address,
        generation: rec.generation,
        jsPath: prepared.jsPath,
        importKeys: prepared.importKeys,
        coreModules: prepared.coreModules,
        tmpDir: this.opts.drive.tmpDir(rec.pid),
        onExit: rec.onExit,
        verbosity: this.opts.verbosity,
        maxMemoryBytes: this.opts.maxProcessMemoryBytes,
      },
      (m) => this.fromWorker(rec, slot, m),
      (why) => this.instanceEnded(rec, slot, 'trapped', why),
    );
  }

  /** Kill without on-exit handling (reinstall, KillProcess, shutdown). */
  async kill(pid: ProcessId, opts: { revoke?: boolean } = {}): Promise<void> {
    const rec = this.processes.get(pidStr(pid));
    if (!rec) return;
    this.remove(rec, opts.revoke ?? false);
    await rec.slot.terminate();
  }

  private remove(rec: ProcessRecord, revoke: boolean): void {
    if (!this.processes.delete(rec)) return;
    rec.running = false;
    rec.stagedWasm = undefined;
    this.lanes.slotGone(rec.slot);
    void rec.slot.terminate();
    this.timers.clear(rec.key);
    this.gate.forget(rec.key, revoke ? rec.addrText : undefined);
    if (revoke) {
      this.caps.revokeIssuedBy(rec.addrText);
      this.caps.clear(rec.key);
    }
    for (const l of this.exitListeners) l(rec.pid);
    this.opts.onPersistNeeded();
  }

  private fromWorker(rec: ProcessRecord, slot: ProcessSlot, m: WorkerToKernel): void {
    if (rec.slot !== slot) return; // a message from an instance already replaced
    switch (m.t) {
      case 'send':
        for (const item of m.items) this.sendFromProcess(rec, item);
        return;
      case 'print':
        if (m.raw) this.print(m.verbosity, m.text);
        else this.processPrint(rec.pid, m.verbosity, m.text);
        return;
      case 'on-exit':
        rec.onExit = m.onExit;
        if (rec.generation === 1) this.opts.onPersistNeeded();
        return;
      case 'save-caps':
        this.saveCaps(rec, m.caps);
        return;
      case 'drop-caps':
        this.caps.remove(rec.key, m.caps);
        return;
      case 'call':
        void this.call(rec, m.call).then(
          (value) => slot.reply({ seq: m.seq, ok: true, value }),
          (e: Error) => slot.reply({ seq: m.seq, ok: false, error: e.message }),
        );
        return;
      case 'started':
        return;
      case 'lane-adopt':
        return this.lanes.adopted(slot, m.id);
      case 'lane-ended':
        return this.lanes.ended(slot, m.id);
      case 'ended':
        this.instanceEnded(rec, slot, m.outcome, m.detail);
        return;
    }
  }

  private async call(rec: ProcessRecord, c: KernelCall): Promise<unknown> {
    switch (c.op) {
      case 'get-state':
        return this.opts.state.get(rec.key);
      case 'set-state':
        await this.opts.state.set(rec.key, c.bytes);
        return null;
      case 'clear-state':
        await this.opts.state.clear(rec.key);
        return null;
      case 'our-capabilities':
        return this.caps.all(rec.key);
      case 'spawn':
        return this.spawn(rec, c);
    }
  }

  // ---------------------------------------------------------------- exit and on-exit

  private instanceEnded(rec: ProcessRecord, slot: ProcessSlot, outcome: string, detail: string): void {
    if (rec.slot !== slot || !rec.running || this.stopping) return;
    rec.running = false;
    const our = rec.addrText;
    if (outcome === 'returned') {
      this.print(1, `process ${our} returned without error`);
    } else if (outcome === 'failed-to-instantiate') {
      this.print(0, `kernel: process ${rec.key} failed to instantiate: ${detail}`);
    } else {
      this.print(0, `\x1b[38;5;196mprocess ${our} ended with error:\x1b[0m\n${detail}`);
    }
    const behaviour = rec.onExit.tag === 'none' ? 'None' : rec.onExit.tag === 'restart' ? 'Restart' : 'Requests';
    this.print(1, `process ${rec.key} has OnExit behavior ${behaviour}`);
    this.lanes.slotGone(slot);
    void slot.terminate();
    this.timers.clear(rec.key);
    for (const l of this.exitListeners) l(rec.pid);

    if (outcome === 'failed-to-instantiate') {
      this.remove(rec, true);
      return;
    }
    switch (rec.onExit.tag) {
      case 'none':
        this.remove(rec, true);
        return;
      case 'requests':
        for (const [target, request, blob] of rec.onExit.val) {
          this.sendFromProcess(rec, {
            id: this.freshId(),
            target,
            rsvp: undefined,
            message: { tag: 'request', val: { ...request, expectsResponse: undefined } },
            lazyLoadBlob: blob,
          });
        }
        this.remove(rec, true);
        return;
      case 'restart': {
        const delay = rec.backoff.next(Date.now());
        this.print(1, `kernel: restarting process ${rec.key} in ${delay} ms`);
        rec.slot = this.newSlot(); // queued messages of the old instance are lost
        rec.restarts++;
        const restart = (): void => {
          if (!this.processes.current(rec) || this.stopping) return;
          rec.backoff.started(Date.now());
          void this.run(rec.pid);
        };
        if (delay === 0) restart();
        else setTimeout(restart, Math.min(delay, MAX_TIMER_MS)).unref();
        return;
      }
    }
  }

  // ---------------------------------------------------------------- spawn

  private async spawn(parent: ProcessRecord, c: Extract<KernelCall, { op: 'spawn' }>): Promise<unknown> {
    const err = (e: string) => ({ tag: 'err', val: e });
    const { path, drive } = spawnPath(c.wasmPath, (p) => this.opts.drive.driveOf(p));
    // the runtime reads the wasm through vfs as the caller
    if (!drive) return err('no-file-at-path');
    if (!isOwnPackageDrive(drive, parent.pid) && !this.caps.has(parent.key, driveReadCap(this.addr(VFS_PID), drive))) {
      return err('no-file-at-path');
    }
    const bytes = await this.opts.drive.read(path);
    if (!bytes) return err('no-file-at-path');

    const child = childPid(parent.pid, c.name ?? BigInt.asUintN(64, this.freshId()).toString(), parent.generation);
    // the runtime's intent (its code has a quirk that returns ok here)
    if (this.processes.has(pidStr(child)) || this.modules.has(pidStr(child))) return err('name-taken');
    const full = processLimitReached(this.limits, this.processes.values(), this.processes.size, child);
    if (full) {
      // the runtime answers name-taken whenever the kernel will not initialize the child
      this.print(0, `kernel: process ${parent.key} cannot spawn ${pidStr(child)}: ${full}`);
      return err('name-taken');
    }

    const requested = c.requestCapabilities.filter(
      (cap) => this.caps.has(parent.key, cap) || addrStr(cap.issuer) === parent.addrText,
    );
    this.initialize(
      { pid: child, generation: parent.generation, wasmPath: path, onExit: c.onExit, public: c.public },
      requested,
    );
    this.caps.add(parent.key, [this.messagingCap(child)]);
    for (const [holder, params] of c.grant) {
      this.caps.add(this.holderKey(pidStr(holder)), [{ issuer: this.addr(child), params }]);
    }
    const started = await this.run(child);
    if (!started) return err('no-file-at-path');
    this.caps.add(pidStr(child), [this.messagingCap(parent.pid)]);
    return { tag: 'ok', val: child };
  }

  // ---------------------------------------------------------------- routing

  private resolveOur(a: Address): Address {
    return a.node === 'our' ? { node: this.node, process: a.process } : a;
  }

  private sendFromProcess(rec: ProcessRecord, item: Omit<KernelMessage, 'source'>): void {
    const km: KernelMessage = {
      id: item.id,
      source: rec.address,
      target: this.resolveOur(item.target),
      rsvp: item.rsvp,
      message: this.gate.filterAttached(rec.key, rec.addrText, item.message),
      lazyLoadBlob: item.lazyLoadBlob,
    };
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) {
      this.timers.start(rec.key, km.id, km.message.val, km.lazyLoadBlob, item.target);
    }
    this.route(km, { kind: 'process', rec });
  }

  private saveCaps(rec: ProcessRecord, caps: Capability[]): void {
    const refused = this.gate.save(rec.key, rec.addrText, caps);
    if (refused.length > 0) {
      const list = refused.map((c) => `${addrStr(c.issuer)} ${c.params}`).join(', ');
      this.print(0, `kernel: process ${rec.key} may not save capabilities it was never given; refused: ${list}`);
    }
  }

  /** The expects-response timer fired: the error keeps the target as the process passed it. */
  private deliverTimeout(holder: string, id: bigint, p: PendingTimer): void {
    const rec = this.processes.get(holder);
    if (!rec) return;
    rec.slot.deliver({
      kind: 'error',
      id,
      error: { kind: 'timeout', target: p.originalTarget, message: { tag: 'request', val: p.request }, lazyLoadBlob: p.blob },
    });
  }

  /**
   * The runtime's "throw timeout": a dropped request that expects a response fails at once. As
   * there, the error is built from the message as the kernel holds it at that point: `our`
   * already replaced by the node name, attached caps already filtered (issue 14).
   */
  private throwTimeout(km: KernelMessage, from: Sender, kind: 'timeout' | 'offline' = 'timeout'): void {
    if (from.kind !== 'process' || km.message.tag !== 'request' || km.message.val.expectsResponse === undefined) return;
    if (!this.timers.take(from.rec.key, km.id)) return; // no context left: the process would drop it
    from.rec.slot.deliver({
      kind: 'error',
      id: km.id,
      error: { kind, target: km.target, message: km.message, lazyLoadBlob: km.lazyLoadBlob },
    });
  }

  private senderName(from: Sender): string {
    return from.kind === 'process' ? from.rec.key : from.entry.key;
  }

  /**
   * Every drop below mirrors a drop path of the runtime's event loop (kernel/mod.rs), with the
   * same kind of print at the same verbosity; docs/kernel.md lists them.
   */
  private route(km: KernelMessage, from: Sender): void {
    const senderGen = from.kind === 'process' ? from.rec.generation : undefined;
    const sourceKey = this.senderName(from);
    // a process's messages carry its own address (sendFromProcess): its text is its key
    const sourceText = from.kind === 'process' ? from.rec.key : pidText(km.source.process);
    const targetText = pidText(km.target.process);
    if (km.target.node !== this.node) {
      const networked = from.kind === 'process' && this.caps.has(from.rec.key, { issuer: this.addr(KERNEL_PID), params: NETWORK });
      if (from.kind === 'process' && !networked) {
        this.print(0, `event loop: process ${sourceText} doesn't have capability to send networked messages`);
        this.print(0, `their capabilities: ${this.caps.all(from.rec.key).map((c) => `${addrStr(c.issuer)} ${c.params}`).join(', ')}`);
        this.throwTimeout(km, from);
        return;
      }
      // a single node: no peer is reachable, as the runtime's net module reports an unreachable one
      this.print(2, `event loop: cannot reach node ${km.target.node} (no networking in kinode-host)`);
      this.throwTimeout(km, from, 'offline');
      return;
    }
    const rec = this.processes.get(targetText);
    const moduleEntry = rec ? undefined : this.modules.forSender(km.target.process, senderGen);
    if (!rec && !moduleEntry) {
      // issue 8.5: a Kinode system process this node does not provide is named once, at verbosity 0
      if (this.missingSystem.firstMiss(targetText, senderGen)) {
        this.print(0, `kernel: ${targetText} is a Kinode system process that kinode-host does not provide; dropping messages to it (first from ${sourceText})`);
      }
      this.print(2, `event loop: process ${sourceText} sent message to non-existing ${targetText}; dropping message`);
      this.throwTimeout(km, from);
      return;
    }
    const targetPublic = rec ? rec.public : moduleEntry!.module.public;
    const exempt =
      CAP_EXEMPT.has(sourceText) || (from.kind === 'module' && from.entry.capExempt) || targetPublic;
    if (!exempt && !this.gate.mayMessage(sourceKey, targetText, km.target.process, moduleEntry?.pids)) {
      this.print(0, `event loop: process ${sourceText} doesn't have capability to message process ${targetText}`);
      this.throwTimeout(km, from);
      return;
    }
    if (this.tap !== undefined) this.tap(km, sourceKey, rec ? rec.key : moduleEntry!.key);
    if (rec) {
      const d: Delivery = { kind: 'message', km };
      if (!rec.slot.hasRoom(d, from.kind === 'module' && from.bytesBudgeted === true)) return this.mailboxFull(rec, km, from);
      if (rec.slot.refused > 0) {
        this.print(0, `kernel: mailbox of ${rec.key} takes messages again (${rec.slot.refused} refused while it was full)`);
        rec.slot.refused = 0;
      }
      if (km.message.tag === 'response') this.timers.take(rec.key, km.id);
      this.gate.delivered(rec.key, km.message);
      rec.slot.deliver(d);
      if (from.kind === 'process') this.lanes.routed(from.rec, rec);
      return;
    }
    const entry = moduleEntry!;
    try {
      entry.module.handle(km, senderGen ?? 1);
    } catch (e) {
      // the runtime's modules never refuse at the door; ours fail only on a bug: say so, fail fast
      this.print(0, `${entry.key}: error handling message from ${sourceText}: ${(e as Error).message}`);
      this.throwTimeout(km, from);
    }
  }

  /**
   * A full mailbox refuses the message, never silently: a process's request that expects a
   * response fails at once with a `timeout` send-error (as if the target never answered); a
   * module's send reports it through its `onMailboxFull` (http-server answers 503); a refused
   * response leaves its requester's expects-response timer running (it gets its timeout); and the
   * kernel prints when a mailbox starts refusing and when it takes messages again.
   */
  private mailboxFull(rec: ProcessRecord, km: KernelMessage, from: Sender): void {
    if (rec.slot.refused++ === 0) {
      const { messages, bytes } = rec.slot.occupancy();
      this.print(0, `kernel: mailbox of ${rec.key} is full (${messages} messages, ${bytes} bytes not yet received): refusing messages until it drains`);
    }
    this.print(2, `kernel: mailbox full: refused a ${km.message.tag} from ${this.senderName(from)} to ${rec.key}`);
    if (from.kind === 'module') from.onMailboxFull?.();
    else this.throwTimeout(km, from);
  }

  /** Deliver a raw delivery to a process (used by the test driver and tools). */
  deliver(pid: ProcessId, d: Delivery): void {
    this.processes.get(pidStr(pid))?.slot.deliver(d);
  }

  // ---------------------------------------------------------------- shutdown

  async stop(): Promise<void> {
    this.stopping = true;
    this.timers.clearAll();
    await this.pool.stop();
    await Promise.all([...this.processes.values()].map((r) => r.slot.terminate()));
    for (const entry of this.modules.entries()) await entry.module.stop();
    await this.opts.state.idle(); // state writes already asked for land before the node stops
  }

  /** Processes that come back after a node restart (on-exit None ones do not, as in the runtime). */
  persistentProcesses(): ProcessSpec[] {
    return this.list().filter((p) => p.onExit.tag !== 'none');
  }

  loadWasm(path: string): Promise<Uint8Array | undefined> {
    return this.opts.drive.read(path);
  }
}

type Sender =
  | { kind: 'process'; rec: ProcessRecord }
  | { kind: 'module'; entry: ModuleEntry; onMailboxFull?: (() => void) | undefined; bytesBudgeted?: boolean | undefined };

