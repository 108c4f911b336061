// Section of `npm run bench`: kv and sqlite through a process against the same stores called
// directly. Target rows: a Rust process (components/rust feature `store`, rust-store-v1.wasm) sends
// process_lib's requests, 64 in flight, every answer checked. Also: a probe-v1 process floods kv:distro:sys / sqlite:distro:sys with exactly the
// requests process_lib sends (64 in flight, responses taken through receive); raw: kv's
// KvStore and better-sqlite3 called in a loop in a plain Node process (bench/storage-db-target.ts).
// Runs are sized from a calibration run to take about `runS` seconds, host and raw alternating.

import { clamp, fmt } from './common.js';
import type { Child } from './common.js';
import type { Row, Target } from './report.js';

export interface SectionKit {
  row(section: string, name: string, metric: string, better: 'higher' | 'lower', opts?: { target?: Target; chart?: string }): Row;
  child(role: string, args?: Record<string, unknown>): Promise<Child>;
  stop(...cs: Array<Child | undefined>): Promise<void>;
  alternate(round: number, host: () => Promise<void>, raw: () => Promise<void>): Promise<void>;
  settle(section: string, rs: Row[], e: unknown): void;
  log(s: string): void;
  checkBudget(): void;
  notes: string[];
  rounds: number;
  /** seconds a run is sized to take */
  runS: number;
  /** the shared home (its transpile cache is warm) */
  home: string;
  /** components/build/rust-store-v1.wasm when built (components/rust, feature `store`) */
  rustStore?: string;
}

const WINDOW = 64;

export async function sectionStorageDb(k: SectionKit): Promise<void> {
  const S = '6. kv and sqlite';
  const target: Target = { kind: 'ratio-min', value: 0.5 };
  const rust = k.rustStore;
  // the target rows: a Rust process (what kit builds) sending process_lib's requests
  const rustCases = rust
    ? [
        { cmd: 'kv-set@rust', r: k.row(S, `kv Set, 64-byte value, Rust process, ${WINDOW} in flight`, 'ops/s', 'higher', { target, chart: 'kv Set, Rust' }) },
        { cmd: 'kv-get@rust', r: k.row(S, `kv Get, Rust process, ${WINDOW} in flight`, 'ops/s', 'higher', { target, chart: 'kv Get, Rust' }) },
        { cmd: 'sql-insert@rust', r: k.row(S, `sqlite INSERT one row (1 param), Rust process, ${WINDOW} in flight`, 'ops/s', 'higher', { target, chart: 'sqlite INSERT, Rust' }) },
        { cmd: 'sql-select@rust', r: k.row(S, `sqlite SELECT one row by id, Rust process, ${WINDOW} in flight`, 'ops/s', 'higher', { target, chart: 'sqlite SELECT, Rust' }) },
      ]
    : [];
  const cases = [
    ...rustCases,
    { cmd: 'kv-set', r: k.row(S, `kv Set, 64-byte value, JS process (componentize-js), ${WINDOW} in flight`, 'ops/s', 'higher', { chart: 'kv Set, JS' }) },
    { cmd: 'kv-get', r: k.row(S, `kv Get, JS process, ${WINDOW} in flight`, 'ops/s', 'higher', { chart: 'kv Get, JS' }) },
    { cmd: 'sql-insert', r: k.row(S, `sqlite INSERT one row (1 param), JS process, ${WINDOW} in flight`, 'ops/s', 'higher', { chart: 'sqlite INSERT, JS' }) },
    { cmd: 'sql-select', r: k.row(S, `sqlite SELECT one row by id, JS process, ${WINDOW} in flight`, 'ops/s', 'higher', { chart: 'sqlite SELECT, JS' }) },
    { cmd: 'kv-set@driver', r: k.row(S, `kv Set, in-host driver (no process), ${WINDOW} in flight`, 'ops/s', 'higher') },
    { cmd: 'kv-get@driver', r: k.row(S, `kv Get, in-host driver (no process), ${WINDOW} in flight`, 'ops/s', 'higher') },
    { cmd: 'sql-insert@driver', r: k.row(S, `sqlite INSERT, in-host driver (no process), ${WINDOW} in flight`, 'ops/s', 'higher') },
    { cmd: 'sql-select@driver', r: k.row(S, `sqlite SELECT, in-host driver (no process), ${WINDOW} in flight`, 'ops/s', 'higher') },
    // floor rows (docs/performance.md §18): both sides in the raw child; "host" is the store call
    // behind one request decode, a Map lookup and one answer encode, on one thread
    { cmd: 'kv-set+envelope', r: k.row(S, 'kv Set, the store behind one JSON decode + Map lookup + encode, no kernel (floor of a module that decodes with JSON.parse)', 'ops/s', 'higher'), floor: true },
    { cmd: 'kv-get+envelope', r: k.row(S, 'kv Get, the store behind one JSON decode + Map lookup + encode, no kernel (floor of a module that decodes with JSON.parse)', 'ops/s', 'higher'), floor: true },
    { cmd: 'sql-select+envelope', r: k.row(S, 'sqlite SELECT, the store behind one JSON decode + Map lookup + encode, no kernel (floor of a module that decodes with JSON.parse)', 'ops/s', 'higher'), floor: true },
  ].map((c) => ({ floor: false, ...c, rawCmd: c.cmd.replace(/(@(driver|rust)|\+envelope)$/, ''), n: { host: 0, raw: 0 }, sizes: { host: [] as number[], raw: [] as number[] } }));
  if (!rust) k.notes.push(`${S}: the Rust storage client (components/build/rust-store-v1.wasm) is not built: JS process rows only, none with a target`);
  let host: Child | undefined;
  let raw: Child | undefined;
  try {
    k.log(`${S}: starting the host (probe-v1${rust ? ' and a Rust store process' : ''} with a kv and a sqlite db) and raw KvStore / better-sqlite3`);
    host = await k.child('host-db', { home: k.home, ...(rust ? { rustStore: rust } : {}) });
    raw = await k.child('raw-db');
    if (rust)
      k.notes.push(
        `${S}: the target rows: host = a Rust process (components/rust, feature \`store\`: plain Rust with hand-written canonical-ABI glue, built like kit builds a process) ` +
          `sending process_lib's exact kv / sqlite requests (v1 bodies formatted by hand, blobs as process_lib sets them), ${WINDOW} in flight with expects-response 5, ` +
          'responses through receive, each body (and for Get / SELECT the blob, taken with get-blob as process_lib does) compared with the expected answer, mismatches counted as errors; ' +
          'the time is taken by the node\'s test driver from its `store <op> <n> 64` command to the process\'s `store done` report.',
      );
    k.notes.push(
      `${S}: JS rows: host = a probe-v1 process flooding kv:distro:sys / sqlite:distro:sys with process_lib's exact requests (send-request with expects-response, ` +
        `${WINDOW} in flight, responses taken through receive; each answer checked once before the runs, and module errors counted); ` +
        'raw = the same operation in a loop in a plain Node process: kv\'s KvStore (the kv library: a SQLite table through better-sqlite3) and better-sqlite3 ' +
        'with the same statement and pragmas (WAL, synchronous=NORMAL). The raw side does no messaging, no JSON and no process at all: ' +
        'the ratio is the cost of reaching the store from inside a Kinode process.',
    );
    k.notes.push(
      `${S}: what bounds the Rust process rows: every operation is a request from the process through the kernel thread to the module and a response back, ` +
        'all on the kernel thread but for the process itself, so no operation can go faster than section 3\'s "in-host driver → Rust echo" row ' +
        '(the same two crossings with a module on the kernel thread and a process that only echoes), less the store call itself.',
    );
    type Run = { ms: number; errors: number; report?: string };
    for (const c of cases) {
      k.checkBudget();
      const hostSide = c.floor ? raw : host;
      await hostSide.call<Run>(c.cmd, { n: 500, window: WINDOW, timeoutS: 60 }, 70000); // warm-up
      const h = await hostSide.call<Run>(c.cmd, { n: 1000, window: WINDOW, timeoutS: 60 }, 70000);
      c.n.host = clamp((1000 / h.ms) * 1000 * k.runS, 300, c.floor ? 4000000 : 200000);
      await raw.call<Run>(c.rawCmd, { n: 20000 }, 70000);
      const r = await raw.call<Run>(c.rawCmd, { n: 20000 }, 70000);
      c.n.raw = clamp((20000 / r.ms) * 1000 * k.runS, 5000, 4000000);
    }
    const errs: string[] = [];
    for (let round = 0; round < k.rounds; round++) {
      for (const c of cases) {
        k.checkBudget();
        const one = (side: 'host' | 'raw') => async () => {
          const n = c.n[side];
          const res = await (side === 'host' && !c.floor ? host! : raw!).call<Run>(side === 'host' ? c.cmd : c.rawCmd, { n, window: WINDOW, timeoutS: 120 }, 130000);
          if (res.errors) errs.push(`${side} ${c.r.name}: ${res.errors} of ${n} failed${res.report ? ` (${res.report})` : ''}`);
          const rate = (n / res.ms) * 1000;
          c.r[side].push(rate);
          c.n[side] = side === 'host' && !c.floor ? clamp(rate * k.runS, 300, 200000) : clamp(rate * k.runS, 5000, 4000000);
          c.sizes[side].push(n);
        };
        await k.alternate(round, one('host'), one('raw'));
      }
      k.log(`${S}: round ${round + 1}/${k.rounds} done`);
    }
    k.notes.push(`${S}: operations per run: ` + cases.map((c) => `${c.cmd}: host ${c.sizes.host.join(', ')}; raw ${c.sizes.raw.join(', ')}`).join(' | '));
    if (errs.length) k.notes.push(`${S}: errors: ${errs.join('; ')}`);
    const per = (c: (typeof cases)[number], side: 'host' | 'raw') => fmt(1e6 / (c.r[side].reduce((a, b) => a + b, 0) / Math.max(1, c.r[side].length)), 'µs');
    k.notes.push(
      `${S}: mean time per operation — ` + cases.map((c) => `${c.cmd}: host ${per(c, 'host')}, raw ${per(c, 'raw')}`).join('; ') +
        '. A JS-row host operation is a request from the probe (a JS engine inside the component) through the kernel to the module, the store call, ' +
        'and the response back through the kernel into the probe\'s receive: the messaging round trip, not the store, sets the host figure ' +
        '(compare section 3\'s request/response rate of the JS probe pair). The "in-host driver" rows send the same requests from the node\'s test driver ' +
        '(a module on the main thread: one promise and timer per request, no worker, no JS engine in a component): what kernel routing, the module ' +
        '(JSON parsing, the cap check, the reply) and the store cost per operation without a process in the path.',
    );
  } catch (e) {
    k.settle(S, cases.map((c) => c.r), e);
  } finally {
    await k.stop(host, raw);
  }
}
