// Section 5 of `npm run bench`: process start (cold / warm / hot, JS and Rust, with the fresh-page
// floor under each warm start), memory per idle process against idle worker_threads, and the
// 1,000 idle Rust processes row against as many bare worker_threads (docs/performance.md §2).

import { rmSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { BudgetExhausted, fmt } from './common.js';
import type { Child } from './common.js';
import type { Row } from './report.js';
import type { SectionKit } from './storage-db.js';

export interface StartKit extends Pick<SectionKit, 'row' | 'child' | 'stop' | 'settle' | 'log' | 'checkBudget' | 'notes' | 'rounds' | 'home'> {
  /** the bench's scratch directory (fresh homes go there) */
  work: string;
  /** idle processes for the memory rows (BENCH_MEMORY_N) */
  memoryN: number;
  /** Rust processes in the many-idle row (BENCH_MANY_N) */
  manyN: number;
  /** the Rust echo component when built */
  rustEcho?: string;
  /** why the Rust echo is unusable (an earlier section's failure, or set here at the first one) */
  rustBroken?: string;
}

/** A Rust-echo measurement that fails marks its row, not the section; later ones are skipped with it. */
async function rustTry(k: StartKit, r: Row, f: () => Promise<unknown>): Promise<void> {
  if (k.rustBroken) r.unavailable ??= k.rustBroken;
  if (r.unavailable) return;
  try {
    await f();
  } catch (e) {
    if (e instanceof BudgetExhausted) throw e;
    k.rustBroken = `Rust echo: ${e instanceof Error ? e.message : String(e)}`;
    r.unavailable = k.rustBroken;
  }
}

export async function sectionStart(k: StartKit): Promise<void> {
  const S = '5. Process start';
  const rust = k.rustEcho;
  const { row, child, stop, notes, checkBudget, log } = k;
  const MEMORY_N = k.memoryN;
  const MANY_N = k.manyN;
  const cold = row(S, 'cold: fresh home, install → init runs', 'ms', 'lower');
  const warm = row(S, 'warm: second node on the same home', 'ms', 'lower', { target: { kind: 'abs-max', value: 60 } });
  // the floor under the JS warm start, as for the Rust one below (docs/performance.md §20)
  const warmPages = row(S, 'warm: memory faulted in during the start', 'MiB', 'lower');
  const warmFloor = row(S, 'warm: bare Node faulting in as many fresh pages (the floor)', 'ms', 'lower');
  // the floor of any Node host: the component alone, file to first print (docs/performance.md §37)
  const warmInit = row(S, 'warm: Node alone taking the component from its file to init\'s first print (floor of any Node host)', 'ms', 'lower');
  const hot = row(S, 'hot: another install in the same node', 'ms', 'lower');
  const coldR = rust ? row(S, 'Rust echo cold', 'ms', 'lower') : undefined;
  const warmR = rust ? row(S, 'Rust echo warm', 'ms', 'lower', { target: { kind: 'abs-max', value: 30 } }) : undefined;
  // the floor under the Rust warm start: the fresh pages it faults in, and what touching as many
  // fresh pages costs bare Node in the same child (docs/performance.md, "Rust start")
  const warmRPages = rust ? row(S, 'Rust echo warm: memory faulted in during the start', 'MiB', 'lower') : undefined;
  const warmRFloor = rust ? row(S, 'Rust echo warm: bare Node faulting in as many fresh pages (the floor)', 'ms', 'lower') : undefined;
  const mem = row(S, `memory per idle process (${MEMORY_N} idle)`, 'MiB', 'lower');
  const fit = row(S, 'idle processes in 1 GiB (extrapolated)', 'count', 'higher');
  const memR = rust ? row(S, `Rust echo memory per idle process (${MEMORY_N} idle)`, 'MiB', 'lower', { target: { kind: 'abs-max', value: 10 } }) : undefined;
  const fitR = rust ? row(S, 'Rust echo idle processes in 1 GiB', 'count', 'higher') : undefined;
  const manyName = `${MANY_N.toLocaleString('en-US')} idle Rust processes in one node`;
  const manyRss = rust ? row(S, manyName, 'total RSS GiB', 'lower', { target: { kind: 'abs-max', value: 8 } }) : undefined;
  const manyTime = rust ? row(S, manyName, 's until all answered', 'lower', { target: { kind: 'abs-max', value: 60 } }) : undefined;
  const rs = [cold, warm, warmPages, warmFloor, warmInit, hot, mem, fit, ...[coldR, warmR, warmRPages, warmRFloor, memR, fitR, manyRss, manyTime].filter((r): r is Row => r !== undefined)];
  notes.push(
    `${S}: time from \`node.install(dir)\` to the process's first print (\`probe ready …\` / \`rust echo ready …\`, printed first thing in init)` +
      '. cold = fresh home (jco transpile + compile + instantiate); warm = a second node (new child process) on that home, so the transpile cache is on disk but nothing is compiled in memory; ' +
      'hot = a second package in the same node. Each node idles 500 ms after boot, and 400 ms before each install (its spare worker, replaced after every start, has booted). ' +
      'The transpile cache also holds V8\'s code cache of the jco glue (written by the first start), so a warm start neither transpiles nor compiles the glue; the core wasm modules are compiled again in a new node. ' +
      'The warm starts\' floor rows (JS and Rust echo): the pages the node process faulted in between `install` and the first print (summed over the threads that existed before the install: the kernel thread, the spare worker taken, the helper threads of V8 and libuv; not the replacement spare booted meanwhile; it includes the probe started just before, which may still be compiling, so it is an upper bound of the start\'s own), and the time bare Node (the same child, right after) takes to fault in as many fresh pages, one byte written per 4 KiB page: on a virtual machine each first touch of a page is a trap into the host. ' +
        'The "Node alone" floor row: in a child of its own on the same home (nothing compiled in it yet), a booted worker thread reads the probe\'s file, compiles its core modules as the host does (bodies validated at first call where the home records an earlier validation), loads jco\'s glue from the cache and instantiates it with the host\'s WASI and a stub kinode interface, and runs init until its first print: no kernel, no install, no messaging. ' +
        'Raw column: `new Worker()` of a trivial script until its first message. Memory: RSS of the node process (all threads) after GC, before and after ' +
      `${MEMORY_N} idle processes, divided by ${MEMORY_N} (one process of the same kind already running before, so the component\'s transpile cache is warm whichever sections ran first); raw column: ${MEMORY_N} idle worker_threads. "In 1 GiB" = floor(1024 MiB / per-process MiB).`,
  );
  try {
    for (let round = 0; round < k.rounds; round++) {
      checkBudget();
      const home = join(k.work, `start-home-${round}`);
      let a: Child | undefined;
      let b: Child | undefined;
      try {
        a = await child('start', { home });
        cold.host.push((await a.call<{ ms: number }>('install', { packageName: `cold${round}` }, 120000)).ms);
        if (coldR) await rustTry(k, coldR, async () => coldR.host.push((await a!.call<{ ms: number }>('install', { packageName: `coldr${round}`, rustWasm: rust }, 120000)).ms));
        hot.host.push((await a.call<{ ms: number }>('install', { packageName: `hot${round}` }, 60000)).ms);
        const w = (await a.call<{ ms: number }>('rawWorker', {}, 30000)).ms;
        cold.raw.push(w);
        hot.raw.push(w);
        await stop(a);
        a = undefined;
        // in a node of its own, before the warm one: V8 keeps a process's compiled modules by their bytes
        b = await child('start', { home });
        warmInit.host.push((await b.call<{ ms: number }>('componentInit', {}, 60000)).ms);
        await stop(b);
        b = await child('start', { home });
        const wj = await b.call<{ ms: number; faults: number }>('install', { packageName: `warm${round}` }, 60000);
        warm.host.push(wj.ms);
        warmPages.host.push((wj.faults * 4096) / 2 ** 20);
        warmFloor.host.push((await b.call<{ ms: number }>('touchPages', { pages: wj.faults }, 30000)).ms);
        if (warmR) {
          await rustTry(k, warmR, async () => {
            const r = await b!.call<{ ms: number; faults: number }>('install', { packageName: `warmr${round}`, rustWasm: rust }, 60000);
            warmR.host.push(r.ms);
            warmRPages?.host.push((r.faults * 4096) / 2 ** 20);
            warmRFloor?.host.push((await b!.call<{ ms: number }>('touchPages', { pages: r.faults }, 30000)).ms);
          });
          for (const r of [warmRPages, warmRFloor]) if (r && warmR.unavailable) r.unavailable = warmR.unavailable;
        }
        warm.raw.push((await b.call<{ ms: number }>('rawWorker', {}, 30000)).ms);
      } finally {
        await stop(a, b);
        rmSync(home, { recursive: true, force: true });
      }
      log(`${S}: round ${round + 1}/${k.rounds} done`);
    }
    const memory = async (kind: string, extra: Record<string, unknown> = {}) => {
      checkBudget();
      const c = await child('memory', { home: k.home, kind, n: MEMORY_N, ...extra });
      try {
        return await c.call<{ perProcess: number; rss0: number; rss1: number; readyMs: number }>('measure', {}, 180000);
      } finally {
        await stop(c);
      }
    };
    const MiB = 2 ** 20;
    const w = await memory('worker');
    const p = await memory('probe');
    mem.host.push(p.perProcess / MiB);
    mem.raw.push(w.perProcess / MiB);
    fit.host.push(Math.floor(1024 / (p.perProcess / MiB)));
    fit.raw.push(Math.floor(1024 / (w.perProcess / MiB)));
    notes.push(
      `${S}: RSS ${fmt(p.rss0 / MiB)} → ${fmt(p.rss1 / MiB)} MiB with ${MEMORY_N} idle probes (ready in ${fmt(p.readyMs)} ms); ` +
        `${fmt(w.rss0 / MiB)} → ${fmt(w.rss1 / MiB)} MiB with ${MEMORY_N} idle worker_threads. One measurement each (not rounds).`,
    );
    if (memR && fitR) {
      await rustTry(k, memR, async () => {
        const r = await memory('rust', { rustWasm: rust });
        memR.host.push(r.perProcess / MiB);
        memR.raw.push(w.perProcess / MiB);
        fitR.host.push(Math.floor(1024 / (r.perProcess / MiB)));
        fitR.raw.push(Math.floor(1024 / (w.perProcess / MiB)));
      });
      if (memR.unavailable) fitR.unavailable = memR.unavailable;
    }
    if (manyRss && manyTime) await manyIdle(k, S, rust!, memR, manyRss, manyTime);
  } catch (e) {
    k.settle(S, rs, e);
  }
}

/** N idle Rust echo processes in one node, each answering one request: the node's RSS and the time. */
async function manyIdle(k: StartKit, S: string, rust: string, memR: Row | undefined, rssRow: Row, timeRow: Row): Promise<void> {
  const { child, stop, notes, checkBudget } = k;
  const MANY_N = k.manyN;
  // refuse to run the machine out of memory: the per-process figure just measured, with margin
  const perMiB = memR?.host[0] ?? 24;
  const needMiB = MANY_N * perMiB * 1.3 + 1024;
  const freeMiB = freemem() / 2 ** 20;
  if (needMiB > freeMiB) {
    rssRow.unavailable = timeRow.unavailable = `needs ~${fmt(needMiB / 1024)} GiB free, the machine has ${fmt(freeMiB / 1024)} GiB (BENCH_MANY_N lowers the count)`;
    notes.push(`${S}: ${rssRow.name}: not run: ${rssRow.unavailable}`);
    return;
  }
  await rustTry(k, rssRow, async () => {
    checkBudget();
    const c = await child('many', { home: k.home, n: MANY_N, rustWasm: rust });
    try {
      const r = await c.call<{ n: number; readyMs: number; answeredMs: number; rss0: number; rss1: number }>('measure', {}, 900000);
      rssRow.host.push(r.rss1 / 2 ** 30);
      timeRow.host.push(r.answeredMs / 1000);
      notes.push(
        `${S}: ${rssRow.name}: one package of ${r.n} Rust echo processes installed into a running node; all printed \`rust echo ready\` after ${fmt(r.readyMs / 1000)} s ` +
          `and had each answered one request (driver, expects-response) after ${fmt(r.answeredMs / 1000)} s; node RSS ${fmt(r.rss0 / 2 ** 20)} MiB before, ` +
          `${fmt(r.rss1 / 2 ** 20)} MiB after (${fmt((r.rss1 - r.rss0) / r.n / 2 ** 20)} MiB per process). One measurement (not rounds).`,
      );
    } finally {
      await stop(c);
    }
    // the raw side: the same number of bare worker_threads started at once in a plain Node
    checkBudget();
    const w = await child('manyRaw', { n: MANY_N });
    try {
      const r = await w.call<{ n: number; answeredMs: number; rss0: number; rss1: number }>('measure', {}, 900000);
      rssRow.raw.push(r.rss1 / 2 ** 30);
      timeRow.raw.push(r.answeredMs / 1000);
      notes.push(
        `${S}: ${rssRow.name}, raw column: ${r.n} bare worker_threads (each posts once and idles) started at once in a plain Node process; all had answered after ` +
          `${fmt(r.answeredMs / 1000)} s; RSS ${fmt(r.rss0 / 2 ** 20)} MiB before, ${fmt(r.rss1 / 2 ** 20)} MiB after (${fmt((r.rss1 - r.rss0) / r.n / 2 ** 20)} MiB per thread). ` +
          'This is what Node alone costs for that many threads here: the floor of one worker thread per process. One measurement.',
      );
    } finally {
      await stop(w);
    }
  });
  if (rssRow.unavailable) timeRow.unavailable = rssRow.unavailable;
}
