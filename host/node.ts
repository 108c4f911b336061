// A Kinode node on Node.js: kernel, system modules, the one HTTP port, persistence of the
// process table, and the prints. Used by the CLI and by the tests.

import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import { Kernel, type ProcessSpec } from './kernel/kernel.js';
import { StateStore } from './kernel/state-store.js';
import { Drive } from './package/drive.js';
import { TranspileCache } from './loader/transpile-cache.js';
import { installPackage, type InstallResult } from './package/install.js';
import { Driver } from './kernel/driver.js';
import { decode, encode } from './kernel/persist-codec.js';
import type { Capability } from './types.js';
import { pidStr } from './kernel/address.js';
import { createSystemModules } from './modules/index.js';
import type { SystemModule } from './kernel/module.js';

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
}

export class PortInUseError extends Error {}

interface PersistedKernel {
  processes: ProcessSpec[];
  caps: Record<string, Capability[]>;
}

export class KinodeNode {
  readonly prints: string[] = [];
  private readonly events = new EventEmitter();
  private persistTimer: NodeJS.Timeout | undefined;
  private driverModule: Driver | undefined;
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
    const cache = new TranspileCache(join(home, 'cache', 'components'));
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
      }),
      ...(opts.extraModules ?? []),
    ];
    for (const m of modules) kernel.registerModule(m);
    node.systemModules = modules;
    if (!modules.some((m) => m.names.v1 === 'http-server:distro:sys')) {
      // until the http-server module is present the port answers 404 to everything
      server.on('request', (_req, res) => {
        res.statusCode = 404;
        res.end();
      });
    }
    node.driverModule = new Driver();
    kernel.registerModule(node.driverModule, { capExempt: true });
    await kernel.startModules();

    node.port = await listen(server, opts.port, opts.host);

    const restored = node.restore();
    for (const p of opts.packages ?? []) {
      try {
        await node.install(p);
      } catch (e) {
        node.show(0, `kinode-host: cannot install ${p}: ${(e as Error).message}`);
      }
    }
    for (const pid of restored) await kernel.run(pid);
    return node;
  }

  /** A printed line: filtered by verbosity, kept in `prints`, written out. */
  show(verbosity: number, line: string): void {
    if (verbosity > this.opts.verbosity) return;
    this.prints.push(line);
    (this.opts.print ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
    this.events.emit('print', line);
  }

  /** Resolves with the first printed line (past or future) matching `re`. */
  waitForPrint(re: RegExp, timeoutMs = 20000, from = 0): Promise<string> {
    const hit = this.prints.slice(from).find((l) => re.test(l));
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

  install(path: string): Promise<InstallResult> {
    return installPackage(this.kernel, this.drive, path);
  }

  /** A system module by its v1 name (e.g. `http-server:distro:sys`), for tests and tools. */
  module<T extends SystemModule = SystemModule>(v1Name: string): T | undefined {
    return this.systemModules.find((m) => m.names.v1 === v1Name) as T | undefined;
  }

  driver(): Driver {
    return this.driverModule!;
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
      throw new PortInUseError(`cannot bind ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
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
