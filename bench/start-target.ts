// The child side of bench section 5 (bench/process-start.ts): roles for bench/target.ts.
// `start`: a node on a fresh or reused home timing installs to the first print, with the pages
// each start faults in; `memory`: RSS per idle process against idle worker_threads; `many`: N
// idle Rust echoes in one node; `manyRaw`: N bare worker_threads started at once.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KinodeNode } from '../host/node.js';
import { built, makePackage, sleep } from './common.js';
import { num, str, type Handler } from './role-args.js';

export interface StartRoleEnv {
  commands: Map<string, Handler>;
  cleanups: Array<() => Promise<void> | void>;
  bootNode: (home: string, verbosity?: number, print?: (line: string) => void) => Promise<KinodeNode>;
  /** install and wait for init's first print (bench/target.ts) */
  installUntilReady: (node: KinodeNode, dir: string, addrs: string[], rust: boolean, timeoutMs: number) => Promise<{ ms: number; installMs: number }>;
  gc: () => void;
}

const PUB = 'bench.os';

/**
 * Minor page faults so far of each thread of this process (Linux; empty elsewhere). A start is
 * counted over the threads that existed before it: the kernel thread, the spare worker it takes,
 * V8's and libuv's helpers, not the replacement spare the pool boots meanwhile.
 */
function threadFaults(): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // fields after "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt
      const minflt = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
      if (Number.isFinite(minflt)) m.set(tid, minflt);
    }
  } catch {
    // no /proc: no figure
  }
  return m;
}

export function startRoles(env: StartRoleEnv): Record<string, Handler> {
  const { commands, cleanups, bootNode, installUntilReady, gc } = env;
  /** The RSS after GC: 500 ms of quiet, then two collections 100 ms apart (as every memory row reads it). */
  const settledRss = async (): Promise<number> => {
    await sleep(500);
    gc();
    await sleep(100);
    gc();
    return process.memoryUsage().rss;
  };
  return {
    /** a node on `home` (fresh: cold transpile cache; reused: warm) for process-start timings */
    async start(a) {
      const node = await bootNode(str(a, 'home'));
      await sleep(num(a, 'settleMs', 500)); // the node's spare worker has booted
      const work = str(a, 'work');
      commands.set('install', async (c) => {
        const name = str(c, 'packageName');
        const rust = typeof c.rustWasm === 'string' ? c.rustWasm : undefined;
        const dir = await makePackage({
          dir: join(work, `pkg-${name}`),
          packageName: name,
          publisher: PUB,
          witVersion: rust ? null : 1,
          processes: [{ name: 'idle', wasm: rust ?? 'probe-v1' }],
        });
        // a node keeps one booted spare worker; the install before this one took it, and its
        // replacement boots in the background: start timing once it is there, as in steady state
        await sleep(num(c, 'settleMs', 400));
        // and it has: its replacement boots once the previous start has printed or parked
        // (kernel/worker-pool.ts), and a boot takes from ~20 ms to over 400 ms with the machine shared
        for (let i = 0; i < 1000 && !node.kernel.spareReady(); i++) await sleep(10);
        // the pages the node faulted in during the start (all threads): fresh memory is what a
        // start mostly costs on a virtual machine (docs/performance.md, "Rust start")
        const faults0 = threadFaults();
        const r = await installUntilReady(node, dir, [`fake.dev@idle:${name}:${PUB}`], rust !== undefined, 60000);
        const faults1 = threadFaults();
        let faults = 0;
        for (const [tid, n] of faults0) faults += (faults1.get(tid) ?? n) - n;
        return { ...r, faults };
      });
      // the floor under those faults: bare Node touching as many fresh pages, one byte each
      commands.set('touchPages', async (c) => {
        const pages = num(c, 'pages');
        const faults0 = process.resourceUsage().minorPageFault;
        const t0 = performance.now();
        // at least 40 MiB, above glibc's largest mmap threshold (32 MiB): always a fresh mapping,
        // never memory this process freed earlier (that would not fault); only `pages` are touched
        const b = Buffer.allocUnsafeSlow(Math.max(pages * 4096, 40 << 20));
        for (let at = 0; at < pages * 4096; at += 4096) b[at] = 1;
        const ms = performance.now() - t0;
        return { ms, faults: process.resourceUsage().minorPageFault - faults0 };
      });
      // Node's own floor under the JS warm start: a booted worker brings the probe from its file to
      // init's first print with no host around it (component-init-worker.ts). Only in a node that
      // has not compiled the probe yet: V8 would hand back that compile's code.
      commands.set('componentInit', async () => {
        const wasm = built('probe-v1');
        const hash = createHash('sha256').update(readFileSync(wasm)).digest('hex');
        const entries = join(str(a, 'home'), 'cache', 'components');
        const entry = readdirSync(entries).find((e) => e.startsWith(`${hash}-`));
        if (!entry) throw new Error(`no transpile cache entry for probe-v1 under ${entries}`);
        const w = new Worker(new URL('./component-init-worker.js', import.meta.url), {
          workerData: { wasm, entry: join(entries, entry), our: `fake.dev@idle:floor:${PUB}` },
        });
        try {
          await new Promise<void>((r) => w.once('message', () => r()));
          await sleep(100); // its boot has settled, as a spare's has
          const done = new Promise<{ ms?: number; printed?: string; error?: string }>((r) => w.once('message', r));
          w.postMessage('go');
          const r = await done;
          if (r.error !== undefined || !r.printed?.startsWith('probe ready')) throw new Error(`component init floor: ${r.error ?? r.printed}`);
          return { ms: r.ms };
        } finally {
          await w.terminate();
        }
      });
      commands.set('rawWorker', async () => {
        const t0 = performance.now();
        const w = new Worker(new URL('./raw-worker.js', import.meta.url), { workerData: { mode: 'idle' } });
        await new Promise<void>((r) => w.once('message', () => r()));
        const ms = performance.now() - t0;
        await w.terminate();
        return { ms };
      });
      return {};
    },

    /** RSS before and after N idle processes (kind: probe | rust | worker) */
    async memory(a) {
      const kind = str(a, 'kind');
      const n = num(a, 'n');
      const node = kind === 'worker' ? undefined : await bootNode(str(a, 'home'));
      const workers: Worker[] = [];
      cleanups.push(async () => {
        for (const w of workers) await w.terminate();
      });
      const rust = kind === 'rust' ? str(a, 'rustWasm') : undefined;
      const install = async (tag: string, count: number): Promise<void> => {
        const processes = Array.from({ length: count }, (_, i) => ({ name: `idle${i}`, wasm: rust ?? 'probe-v1' }));
        const dir = await makePackage({ dir: join(str(a, 'work'), `pkg-${tag}-${kind}`), packageName: `${tag}${kind}`, publisher: PUB, witVersion: rust ? null : 1, processes });
        const addrs = Array.from({ length: count }, (_, i) => `fake.dev@idle${i}:${tag}${kind}:${PUB}`);
        await installUntilReady(node!, dir, addrs, rust !== undefined, 120000);
      };
      commands.set('measure', async () => {
        // one process of the kind first, outside the figure: the component's transpile cache is
        // then warm and jco loaded whether or not an earlier section used this home (a cold
        // cache's transpile in the kernel thread is not a cost of each idle process)
        if (node) await install('memwarm', 1);
        const rss0 = await settledRss();
        const t0 = performance.now();
        if (kind === 'worker') {
          for (let i = 0; i < n; i++) {
            const w = new Worker(new URL('./raw-worker.js', import.meta.url), { workerData: { mode: 'idle' } });
            workers.push(w);
            await new Promise<void>((r) => w.once('message', () => r()));
          }
        } else {
          await install('mem', n);
        }
        const readyMs = performance.now() - t0;
        const rss1 = await settledRss();
        return { rss0, rss1, perProcess: (rss1 - rss0) / n, n, readyMs };
      });
      return {};
    },

    /** N idle Rust echo processes in one node: time until all are started and have answered one request each, and the node's RSS */
    async many(a) {
      let onPrint: (line: string) => void = () => {};
      const node = await bootNode(str(a, 'home'), 0, (line) => onPrint(line));
      const n = num(a, 'n');
      const rust = str(a, 'rustWasm');
      commands.set('measure', async () => {
        await sleep(500);
        gc();
        const rss0 = process.memoryUsage().rss;
        const processes = Array.from({ length: n }, (_, i) => ({ name: `m${i}`, wasm: rust }));
        const dir = await makePackage({ dir: join(str(a, 'work'), 'pkg-many'), packageName: 'many', publisher: PUB, witVersion: null, processes });
        const addrs = Array.from({ length: n }, (_, i) => `fake.dev@m${i}:many:${PUB}`);
        const waiting = new Set(addrs);
        const t0 = performance.now();
        // one print listener for all (waitForPrint per process would rescan the prints n times)
        const readyRe = /rust echo ready (\S+)$/;
        const allReady = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${n - waiting.size} of ${n} started within 600 s`)), 600_000);
          onPrint = (line) => {
            const m = readyRe.exec(line);
            if (m) waiting.delete(m[1]!);
            if (waiting.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
        await node.install(dir);
        await allReady;
        const readyMs = performance.now() - t0;
        const replies = await Promise.all(addrs.map((addr) => node.driver().request(addr, `ping ${addr}`, { expects: 120 })));
        const bad = replies.filter((r, i) => r.text !== `ping ${addrs[i]}`).length;
        if (bad) throw new Error(`${bad} of ${n} answered wrongly`);
        const answeredMs = performance.now() - t0;
        const rss1 = await settledRss();
        return { n, readyMs, answeredMs, rss0, rss1 };
      });
      return {};
    },
    /**
     * The raw side of the "many idle processes" row: N bare worker_threads started at once (as a node
     * starts a package's processes), each answering one message; the time until all answered and the
     * RSS after GC. What Node itself costs for N threads on this machine.
     */
    async manyRaw(a) {
      const n = num(a, 'n');
      const workers: Worker[] = [];
      cleanups.push(async () => {
        for (const w of workers) await w.terminate();
      });
      commands.set('measure', async () => {
        await sleep(500);
        gc();
        const rss0 = process.memoryUsage().rss;
        const t0 = performance.now();
        const answered: Array<Promise<void>> = [];
        for (let i = 0; i < n; i++) {
          const w = new Worker(new URL('./raw-worker.js', import.meta.url), { workerData: { mode: 'idle' } });
          workers.push(w);
          answered.push(new Promise<void>((r) => w.once('message', () => r())));
        }
        await Promise.all(answered);
        const answeredMs = performance.now() - t0;
        return { n, answeredMs, rss0, rss1: await settledRss() };
      });
      return {};
    },
  };
}
