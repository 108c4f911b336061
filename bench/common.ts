// Shared pieces of the benchmark: paths, the package maker of components/, statistics, and a
// small request/response RPC over a forked child's IPC channel (bench/target.ts is the child).

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench when compiled */
export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const COMPONENTS = join(ROOT, 'components');
export const BUILD = join(COMPONENTS, 'build');
/** results are written next to the sources (bench/), not next to the compiled files */
export const RESULTS_DIR = join(ROOT, 'bench');

/** `x` rounded into [lo, hi]: a run's size from a calibration rate. */
export const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.round(x)));

/** Thrown when BENCH_BUDGET is spent: the remaining runs are skipped. */
export class BudgetExhausted extends Error {}

export const built = (name: string): string => join(BUILD, `${name}.wasm`);
export const hasBuilt = (name: string): boolean => existsSync(built(name));

export interface ProcessFixture {
  name: string;
  wasm: string;
  onExit?: unknown;
  requestCapabilities?: unknown[];
  grantCapabilities?: unknown[];
  public?: boolean;
}
export interface PackageFixture {
  dir: string;
  packageName: string;
  publisher: string;
  witVersion?: number | null;
  processes: ProcessFixture[];
}
type MakePackage = (p: PackageFixture) => string;
let makePackageFn: MakePackage | undefined;
/** components/packages.mjs's makePackage (plain ESM, no types) */
export async function makePackage(p: PackageFixture): Promise<string> {
  if (!makePackageFn) {
    const url = new URL('../../components/packages.mjs', import.meta.url);
    makePackageFn = ((await import(url.href)) as { makePackage: MakePackage }).makePackage;
  }
  return makePackageFn(p);
}

// ---------------------------------------------------------------- statistics

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** percentile of an unsorted sample, p in [0, 100] (nearest rank) */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const v = Array.from(xs).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[rank]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function fmt(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return '—';
  const abs = Math.abs(x);
  const s =
    abs >= 1000 || Number.isInteger(x)
      ? Math.round(x).toLocaleString('en-US')
      : abs >= 100
        ? x.toFixed(0)
        : abs >= 10
          ? x.toFixed(1)
          : abs >= 1
            ? x.toFixed(2)
            : x.toFixed(3);
  return unit ? `${s} ${unit}` : s;
}

// ---------------------------------------------------------------- child RPC

export interface CpuSample {
  /** µs of CPU (user + system) used by the whole child process, all threads */
  cpuUs: number;
  /** ms, monotonic */
  at: number;
}

interface RpcReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** A forked bench/target.js in one role; call(cmd, args) runs a command there. */
export class Child {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private exited = false;
  info: Record<string, unknown> = {};

  private constructor(
    readonly role: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: RpcReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`${role}: ${m.error}`));
    });
    proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${role}: child exited (${code ?? signal})`));
      }
      this.pending.clear();
    });
  }

  /** Fork a child in `role` and wait for its set-up (the `start` command) to finish. */
  static async start(role: string, args: Record<string, unknown> = {}, timeoutMs = 90000): Promise<Child> {
    const proc = fork(join(HERE, 'target.js'), [role], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--expose-gc', ...(process.env.BENCH_CHILD_FLAGS ? process.env.BENCH_CHILD_FLAGS.split(' ') : [])],
    });
    const c = new Child(role, proc);
    try {
      c.info = (await c.call('start', args, timeoutMs)) as Record<string, unknown>;
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.role}: child has exited`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.role}: ${cmd} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args });
    });
  }

  cpu(): Promise<CpuSample> {
    return this.call<CpuSample>('cpu', {}, 10000);
  }

  /** Ask the child to shut down; kill it (this child only) if it does not within 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    try {
      await this.call('stop', {}, 5000);
    } catch {
      // fall through to the kill below
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

/** CPU use of this process (the load generator) in the same shape. */
export function selfCpu(): CpuSample {
  const u = process.cpuUsage();
  return { cpuUs: u.user + u.system, at: performance.now() };
}

/** % of one core used between two samples */
export const cpuPercent = (a: CpuSample, b: CpuSample): number => ((b.cpuUs - a.cpuUs) / 1000 / (b.at - a.at)) * 100;
