// A Kinode node on Node.js: kernel, system modules, the one HTTP port, persistence of the
// process table, and the prints. Used by the CLI and by the tests.

import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import { Kernel } from './kernel/kernel.js';
import type { ProcessSpec } from './kernel/kernel-options.js';
import type { MailboxLimits } from './kernel/process-slot.js';
import { StateStore } from './kernel/state-store.js';
import { Drive } from './package/drive.js';
import { TranspileCache } from './loader/transpile-cache.js';
import { stagePackage, type InstallResult } from './package/install.js';
import { AppStoreModule } from './modules/app-store/index.js';
import { TesterModule } from './modules/tester/index.js';
import { Driver } from './kernel/driver.js';
import { decode, encode } from './kernel/persist-codec.js';
import type { Capability } from './types.js';
import { pidStr } from './kernel/address.js';
import { createSystemModules } from './modules/index.js';
import type { SystemModule } from './kernel/module.js';
import { PrintRing } from './print-ring.js';

export interface NodeOptions {
  home: string;
  /** undefined: the first free port from 8080 up; 0: any free port; N: exactly N */
  port?: number | undefined;
  host?: string;
  nodeName?: string;
  password?: string | undefined;
  /** 0-3; prints above it are not shown */
  verbosity?: number;
  packages?: string[];
  httpTimeoutMs?: number;
  maxBodyBytes?: number;
  /** per-process cap on wasm linear memory and on the worker's JS heap (default 512 MiB) */
  maxProcessMemoryBytes?: number;
  /** bound of each process's mailbox (default DEFAULT_MAILBOX: 10,000 messages, 64 MiB) */
  mailbox?: MailboxLimits;
  /** false: no lanes between processes' workers, every message through the kernel thread (default true; KINODE_LANES=0 too) */
  lanes?: boolean;
  /** HTTP/WebSocket limits (docs/limits-http.md); undefined: the defaults there */
  maxBodyInflightBytes?: number;
  maxWsFrameBytes?: number;
  wsSendBufferBytes?: number;
  wsFrameTimeoutMs?: number;
  maxBindingsPerProcess?: number;
  maxResponseBytes?: number;
  /** where shown lines go (default: stdout) */
  print?: (line: string) => void;
  /** extra modules (tests); replaces nothing */
  extraModules?: SystemModule[];
  /** register the test driver (`driver:kinode-host:sys`); only the test harness does */
  driver?: boolean;
  /** a package of `packages` that cannot be installed fails the boot (CLI) instead of being printed */
  strictPackages?: boolean;
  /** live processes per package; `spawn` past it fails (default 256) */
  maxProcessesPerPackage?: number;
  /** live processes on the node; `spawn` past it fails (default 4096) */
  maxProcesses?: number;
}

export class PortInUseError extends Error {}
/** A package given at boot could not be installed (strictPackages). */
export class PackageInstallError extends Error {}

export const DEFAULT_MAX_PROCESS_MEMORY = 512 * 2 ** 20;

interface PersistedKernel {
  processes: ProcessSpec[];
  caps: Record<string, Capability[]>;
}

export class KinodeNode {
  private readonly printRing = new PrintRing();
  private readonly events = new EventEmitter();
  private persistTimer: NodeJS.Timeout | undefined;
  private driverModule: Driver | undefined;
  private appStore!: AppStoreModule;
  private systemModules: SystemModule[] = [];
  port = 0;

  private constructor(
    readonly opts: Required<Pick<NodeOptions, 'home' | 'nodeName' | 'verbosity' | 'host'>> & NodeOptions,
    readonly kernel: Kernel,
    readonly drive: Drive,
    readonly server: Server,
  ) {
    this.events.setMaxListeners(0);
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  static async start(options: NodeOptions): Promise<KinodeNode> {
    const home = resolve(options.home);
    mkdirSync(home, { recursive: true });
    const opts = { nodeName: 'fake.dev', verbosity: 0, host: '127.0.0.1', ...options, home };
    const drive = new Drive(home);
    const maxProcessMemoryBytes = opts.maxProcessMemoryBytes ?? DEFAULT_MAX_PROCESS_MEMORY;
    const cache = new TranspileCache(join(home, 'cache', 'components'), { maxMemoryBytes: maxProcessMemoryBytes });
    const state = new StateStore(join(home, 'state'));
    let node: KinodeNode | undefined;
    const kernel = new Kernel({
      nodeName: opts.nodeName,
      printLine: (v, line) => node?.show(v, line),
      state,
      drive,
      prepare: (bytes, gen, label) => cache.prepare(bytes, gen, label),
      onPersistNeeded: () => node?.schedulePersist(),
      verbosity: opts.verbosity,
      limits: { maxPerPackage: opts.maxProcessesPerPackage, maxTotal: opts.maxProcesses },
      maxProcessMemoryBytes,
      ...(opts.mailbox ? { mailbox: opts.mailbox } : {}),
      lanes: opts.lanes ?? process.env.KINODE_LANES !== '0',
    });
    const server = createServer();
    node = new KinodeNode(opts, kernel, drive, server);

    const modules = [
      ...createSystemModules({
        server,
        home,
        nodeName: opts.nodeName,
        password: opts.password,
        requestTimeoutMs: opts.httpTimeoutMs ?? 15000,
        maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024 * 1024,
        maxBodyInflightBytes: opts.maxBodyInflightBytes,
        maxWsFrameBytes: opts.maxWsFrameBytes,
        wsSendBufferBytes: opts.wsSendBufferBytes,
        wsFrameTimeoutMs: opts.wsFrameTimeoutMs,
        maxBindingsPerProcess: opts.maxBindingsPerProcess,
        maxResponseBytes: opts.maxResponseBytes,
        print: (line) => node!.show(0, line),
        state,
      }),
      // the runtime's app store and tester packages, as in-host modules (they need the kernel's
      // install and spawn, which ModuleContext does not offer)
      new AppStoreModule({ drive, stage: (src) => stagePackage(kernel, drive, src) }),
      new TesterModule(drive, {
        spawn: async (spec, caps) => {
          kernel.initialize(spec, caps);
          return kernel.run(spec.pid);
        },
        kill: (pid) => kernel.kill(pid, { revoke: true }),
      }),
      ...(opts.extraModules ?? []),
    ];
    for (const m of modules) kernel.registerModule(m);
    node.systemModules = modules;
    node.appStore = modules.find((m): m is AppStoreModule => m instanceof AppStoreModule)!;
    if (!modules.some((m) => m.names.v1 === 'http-server:distro:sys')) {
      // until the http-server module is present the port answers 404 to everything
      server.on('request', (_req, res) => {
        res.statusCode = 404;
        res.end();
      });
    }
    if (opts.driver) {
      node.driverModule = new Driver();
      kernel.registerModule(node.driverModule, { capExempt: true });
    }
    await kernel.startModules();

    node.port = await listen(server, opts.port, opts.host);

    const restored = node.restore();
    for (const p of opts.packages ?? []) {
      try {
        await node.install(p);
      } catch (e) {
        const why = `cannot install ${p}: ${(e as Error).message}`;
        if (opts.strictPackages) {
          await node.stop();
          throw new PackageInstallError(why);
        }
        node.show(0, `kinode-host: ${why}`);
      }
    }
    for (const pid of restored) await kernel.run(pid);
    return node;
  }

  /** The most recent printed lines (the last 1000), oldest first. */
  get prints(): string[] {
    return this.printRing.since(0);
  }

  /** How many lines have been printed so far: a `from` for waitForPrint that ignores older ones. */
  get printCount(): number {
    return this.printRing.total;
  }

  /** A printed line: filtered by verbosity, kept in the ring of recent prints, written out. */
  show(verbosity: number, line: string): void {
    if (verbosity > this.opts.verbosity) return;
    this.printRing.push(line);
    (this.opts.print ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
    this.events.emit('print', line);
  }

  /**
   * Resolves with the first printed line matching `re`, among those still in the ring whose
   * number is >= `from` (see printCount) and those printed later.
   */
  waitForPrint(re: RegExp, timeoutMs = 20000, from = 0): Promise<string> {
    const hit = this.printRing.since(from).find((l) => re.test(l));
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((res, rej) => {
      const onPrint = (line: string) => {
        if (re.test(line)) {
          clearTimeout(t);
          this.events.off('print', onPrint);
          res(line);
        }
      };
      const t = setTimeout(() => {
        this.events.off('print', onPrint);
        rej(new Error(`no printed line matched ${re} within ${timeoutMs} ms; got:\n${this.prints.slice(-20).join('\n')}`));
      }, timeoutMs);
      this.events.on('print', onPrint);
    });
  }

  /** Install a package folder, pkg/ folder or kit zip through the app store; throws with the reason. */
  install(path: string): Promise<InstallResult> {
    return this.appStore.installPath(path);
  }

  /** A system module by its v1 name (e.g. `http-server:distro:sys`), for tests and tools. */
  module<T extends SystemModule = SystemModule>(v1Name: string): T | undefined {
    return this.systemModules.find((m) => m.names.v1 === v1Name) as T | undefined;
  }

  /** The test driver; only nodes started with `driver: true` (the test harness) have one. */
  driver(): Driver {
    if (!this.driverModule) throw new Error('this node has no test driver (start it with driver: true)');
    return this.driverModule;
  }

  private persistFile(): string {
    return join(this.opts.home, 'kernel', 'processes.json');
  }

  schedulePersist(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persist();
    }, 50);
  }

  /** Write the process table and capabilities of processes that come back after a restart. */
  persist(): void {
    const processes = this.kernel.persistentProcesses();
    const keep = new Set(processes.map((p) => pidStr(p.pid)));
    const allCaps = this.kernel.caps.toJSON();
    const caps: Record<string, Capability[]> = {};
    for (const [holder, list] of Object.entries(allCaps)) if (keep.has(holder) || !holder.includes(':') || holder.endsWith(':distro:sys')) caps[holder] = list;
    const f = this.persistFile();
    mkdirSync(join(this.opts.home, 'kernel'), { recursive: true });
    writeFileSync(`${f}.tmp`, encode({ processes, caps } satisfies PersistedKernel));
    renameSync(`${f}.tmp`, f);
  }

  /** Re-create the persisted processes (not yet running: packages given at boot may replace them). */
  private restore(): ProcessSpec['pid'][] {
    const f = this.persistFile();
    if (!existsSync(f)) return [];
    let saved: PersistedKernel;
    try {
      saved = decode<PersistedKernel>(readFileSync(f, 'utf8'));
    } catch (e) {
      this.show(0, `kinode-host: ignoring unreadable ${f}: ${(e as Error).message}`);
      return [];
    }
    this.kernel.caps.load(saved.caps);
    for (const p of saved.processes) {
      if (!this.kernel.has(p.pid)) this.kernel.initialize(p, []);
    }
    return saved.processes.map((p) => p.pid);
  }

  async stop(): Promise<void> {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    this.persist();
    await this.kernel.stop();
    this.server.closeAllConnections?.();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

export const startNode = (o: NodeOptions): Promise<KinodeNode> => KinodeNode.start(o);

async function listen(server: Server, port: number | undefined, host: string): Promise<number> {
  const tryPort = (p: number) =>
    new Promise<number>((res, rej) => {
      const onError = (e: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        rej(e);
      };
      const onListening = () => {
        server.off('error', onError);
        const a = server.address();
        res(typeof a === 'object' && a ? a.port : p);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(p, host);
    });
  if (port !== undefined) {
    try {
      return await tryPort(port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      let hint = '';
      if (code === 'EADDRINUSE' && port > 0) {
        const free = await firstFreePort(port + 1, Math.min(port + 1000, 65535), host);
        hint = free === undefined ? ` (no free port in ${port + 1}..${Math.min(port + 1000, 65535)})` : ` (first free port after ${port}: ${free})`;
      }
      throw new PortInUseError(`cannot bind ${host}:${port}: ${code ?? (e as Error).message}${hint}`);
    }
  }
  for (let p = 8080; p < 9000; p++) {
    try {
      return await tryPort(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new PortInUseError('no free port in 8080..8999');
}

/** The first port in from..to that can be bound on `host` (probed with a throw-away server). */
async function firstFreePort(from: number, to: number, host: string): Promise<number | undefined> {
  for (let p = from; p <= to; p++) {
    const ok = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(p, host, () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
  return undefined;
}
