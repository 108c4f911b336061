// `npm run bench`: kinode-host against raw Node doing the same work (issue 5).
//
// Each pair (a node of kinode-host with the processes the case needs / the raw-Node program)
// runs side by side in two child processes (bench/target.ts); this process drives the load
// (autocannon, the WebSocket client of bench/ws-load.ts) or commands the children, alternating
// host and raw over several rounds, and prints medians and host/raw ratios. It writes
// bench/results.md and bench/results.svg.
//
// Environment (all optional): BENCH_ROUNDS (3), BENCH_SECONDS (per load run, 1.5),
// BENCH_BUDGET (seconds after which remaining runs are skipped, 240), BENCH_ONLY (e.g. "1,3"),
// BENCH_MEMORY_N (idle processes for the memory figure, 8), BENCH_CHILD_FLAGS (extra node
// flags for the children, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_RUST_WASM (the
// Rust echo component; default components/build/rust-echo-v1.wasm or -v0.wasm when built),
// BENCH_NO_RUST (sections 1 and 2 use the JS components instead of the Rust echo v0),
// BENCH_MANY_N (Rust processes in the "many idle processes" row, 1000).

import autocannon from 'autocannon';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetExhausted, BUILD, Child, RESULTS_DIR, clamp, cpuPercent, fmt, hasBuilt, median, percentile, selfCpu } from './common.js';
import { machine, machineLine, markdown, svgChart, textTable, type Row, type Target } from './report.js';
import { wsLoad } from './ws-load.js';
import type { GcPauses } from './gc-pauses.js';
import { sectionStorageDb } from './storage-db.js';
import { sectionStorageVfs } from './storage-vfs.js';
import { sectionStart } from './process-start.js';
import { sectionMessaging } from './messaging.js';

const envNum = (k: string, d: number): number => {
  const v = Number(process.env[k]);
  return process.env[k] !== undefined && Number.isFinite(v) && v > 0 ? v : d;
};
const ROUNDS = Math.max(1, Math.round(envNum('BENCH_ROUNDS', 3)));
const SECONDS = envNum('BENCH_SECONDS', 1.5);
const BUDGET_S = envNum('BENCH_BUDGET', 900);
const MEMORY_N = Math.max(1, Math.round(envNum('BENCH_MEMORY_N', 8)));
/** processes in the "many idle Rust processes" row */
const MANY_N = Math.max(1, Math.round(envNum('BENCH_MANY_N', 1000)));
/** a messaging / fetch run is sized to take about this long */
const RUN_S = Math.min(1, SECONDS);
const ONLY = new Set((process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean));

const startedAt = performance.now();
const deadline = startedAt + BUDGET_S * 1000;
function checkBudget(): void {
  if (performance.now() > deadline) throw new BudgetExhausted(`time budget of ${BUDGET_S} s exhausted`);
}

const rows: Row[] = [];
const notes: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'kinode-bench-'));
/** one home for the steady-state sections: its transpile cache is filled once */
const sharedHome = join(work, 'home');
const children = new Set<Child>();

function log(s: string): void {
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);
}

async function child(role: string, args: Record<string, unknown> = {}): Promise<Child> {
  const c = await Child.start(role, { work, ...args });
  children.add(c);
  return c;
}
async function stop(...cs: Array<Child | undefined>): Promise<void> {
  for (const c of cs) {
    if (!c) continue;
    children.delete(c);
    await c.stop();
  }
}

function row(section: string, name: string, metric: string, better: 'higher' | 'lower', opts: { target?: Target; chart?: string } = {}): Row {
  const r: Row = { section, name, metric, better, host: [], raw: [], ...opts };
  rows.push(r);
  return r;
}

/** Marks rows that got no value as not available; keeps partial ones (with a note). */
function settle(section: string, rs: Row[], e: unknown): void {
  const why = e instanceof Error ? e.message : String(e);
  for (const r of rs) if (r.host.length === 0 && !r.unavailable) r.unavailable = why;
  const partial = rs.some((r) => r.host.length > 0);
  notes.push(`${section}: ${partial ? 'stopped early (the figures shown are from the rounds before)' : 'not measured'}: ${why}`);
  log(`${section}: ${why}`);
}

/** host first in even rounds, raw first in odd ones */
async function alternate(round: number, host: () => Promise<void>, raw: () => Promise<void>): Promise<void> {
  if (round % 2 === 0) {
    await host();
    await raw();
  } else {
    await raw();
    await host();
  }
}

interface CpuPair {
  server: number[];
  gen: number[];
  /** CPU the whole machine used beyond these two (other processes), % of one core */
  other: number[];
}
const newPair = (): CpuPair => ({ server: [], gen: [], other: [] });

/** busy CPU time of the whole machine, ms summed over cores */
function machineBusyMs(): number {
  let busy = 0;
  for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/** Runs f, recording the CPU (% of one core) of `server`, of this process (the load generator) and of everything else. */
async function withCpu<T>(server: Child, acc: CpuPair, f: () => Promise<T>): Promise<T> {
  const c0 = await server.cpu();
  const s0 = selfCpu();
  const m0 = machineBusyMs();
  const v = await f();
  const m1 = machineBusyMs();
  const s1 = selfCpu();
  const c1 = await server.cpu();
  const srv = cpuPercent(c0, c1);
  const gen = cpuPercent(s0, s1);
  acc.server.push(srv);
  acc.gen.push(gen);
  acc.other.push(Math.max(0, ((m1 - m0) / (s1.at - s0.at)) * 100 - srv - gen));
  return v;
}

function cpuNote(label: string, host: CpuPair, raw: CpuPair, genName: string): string {
  const h = median(host.server);
  const hg = median(host.gen);
  const r = median(raw.server);
  const rg = median(raw.gen);
  const other = median([...host.other, ...raw.other]);
  const compete = h + hg > 150 || r + rg > 150;
  return (
    `${label}: CPU (% of one core; the machine has ${machine().cores}) — host ${fmt(h)} % + ${genName} ${fmt(hg)} %, ` +
    `raw ${fmt(r)} % + ${genName} ${fmt(rg)} %` +
    (compete ? ` → ${genName} competes with the server for the ${machine().cores} CPUs` : '') +
    (other > 25 ? `; other processes on the machine used ${fmt(other)} % meanwhile (noisy figures)` : '')
  );
}

// ================================================================ 1. HTTP round trip

interface GcSeen {
  requests: number;
  minor: number[];
  major: number[];
}
const newGcSeen = (): GcSeen => ({ requests: 0, minor: [], major: [] });
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Adds one run's pauses to `acc`; returns that run's pause ms per 1,000 requests. */
function addGc(acc: GcSeen, g: GcPauses, requests: number): number {
  acc.requests += requests;
  acc.minor.push(...g.minor);
  acc.major.push(...g.major);
  return requests > 0 ? ((sum(g.minor) + sum(g.major)) / requests) * 1000 : NaN;
}

function gcText(g: GcSeen): string {
  const per = (ms: number) => fmt(g.requests > 0 ? (ms / g.requests) * 1000 : NaN);
  const minorMax = g.minor.length ? Math.max(...g.minor) : 0;
  return (
    `${g.minor.length} scavenges (${per(sum(g.minor))} ms per 1,000 requests, p90 ${fmt(percentile(g.minor, 90))} ms, longest ${fmt(minorMax)} ms, ` +
    `${g.minor.filter((d) => d >= 10).length} of 10 ms or more), ${g.major.length} other pauses (${per(sum(g.major))} ms per 1,000 requests)`
  );
}

async function sectionHttp(): Promise<void> {
  const S = '1. HTTP round trip';
  const levels = [1, 10, 50];
  const rs = levels.flatMap((c) => {
    const name = `${c} connection${c > 1 ? 's' : ''}`;
    return [
      row(S, name, 'req/s', 'higher', { chart: `HTTP, ${c} conn${c > 1 ? 's' : ''}`, ...(c === 50 ? { target: { kind: 'ratio-min', value: 0.6 } as Target } : {}) }),
      row(S, name, 'p50 ms', 'lower'),
      row(S, name, 'p99 ms', 'lower', c === 50 ? { target: { kind: 'ratio-max', value: 2 } } : {}),
    ];
  });
  // the floor of one thread per process: raw node:http relaying each request through a worker
  const relayName = '50 connections, raw node:http relaying each request through one worker thread';
  const relayRps = row(S, relayName, 'req/s', 'higher');
  const relayP99 = row(S, relayName, 'p99 ms', 'lower');
  rs.push(relayRps, relayP99);
  // what makes the p99: the main thread's GC pauses in the same runs (bench/gc-pauses.ts)
  const gcMetric = 'main-thread GC pause ms per 1,000 requests';
  const gcRow = row(S, '50 connections', gcMetric, 'lower');
  const relayGc = row(S, relayName, gcMetric, 'lower');
  rs.push(gcRow, relayGc);
  const gcSeen = { host: newGcSeen(), raw: newGcSeen(), relay: newGcSeen() };
  let host: Child | undefined;
  let raw: Child | undefined;
  let relay: Child | undefined;
  try {
    const rustV0 = rustEchoV0();
    log(`${S}: starting the host (${rustV0 ? 'Rust echo v0' : 'probe-v0 `demo`'} bound to / via http_server) and raw node:http`);
    host = await child('host-http', { home: sharedHome, ...(rustV0 ? { rustWasm: rustV0 } : {}) });
    notes.push(
      `${S}: the host side is ` +
        (rustV0
          ? 'the Rust echo (components/rust, process-v0, `serve-http`): a Rust-built component with no JS inside, like a kit-built process; it answers each IncomingHttpRequest with send-response + blob'
          : 'the JS probe-v0 `demo` (componentize-js; the Rust echo is not built, so the JS engine in the component is part of the figure)'),
    );
    const hostUrl = String(host.info.url);
    const probe = await fetch(hostUrl);
    const body = await probe.text();
    if (probe.status !== 200) throw new Error(`host answered ${probe.status}`);
    raw = await child('raw-http', { body, contentType: probe.headers.get('content-type') ?? 'text/plain' });
    relay = await child('raw-http', { body, contentType: probe.headers.get('content-type') ?? 'text/plain', relay: true });
    const rawUrl = String(raw.info.url);
    const check = await (await fetch(rawUrl)).text();
    if (check !== body) throw new Error('raw server body differs from the host one');
    notes.push(`${S}: both answer GET with 200, Content-Type text/plain and the same ${Buffer.byteLength(body)}-byte body; autocannon ${SECONDS} s per run, keep-alive, no pipelining`);
    for (const url of [hostUrl, rawUrl, String(relay.info.url)]) await autocannon({ url, connections: 10, duration: 0.5 }); // warm-up
    notes.push(
      `${S}: the "relaying" rows: raw node:http that hands each request (id, method, url) to one worker thread over a MessagePort and writes the worker's answer (the same body) when it comes back; ` +
        'their host column is that relay, their raw column the plain server in the same round. No Kinode, no JSON, no component: one thread crossing each way per request, the least a host with one thread per process does.',
    );
    const cpu = new Map<number, { host: CpuPair; raw: CpuPair }>();
    const errs: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of levels.entries()) {
        checkBudget();
        const [rps, p50, p99] = rs.slice(i * 3, i * 3 + 3) as [Row, Row, Row];
        const acc = cpu.get(c) ?? { host: newPair(), raw: newPair() };
        cpu.set(c, acc);
        const one = (side: 'host' | 'raw') => async () => {
          const target = side === 'host' ? host! : raw!;
          // autocannon's own latency histogram has 1 ms resolution; its response events carry µs
          const lat: number[] = [];
          if (c === 50) await target.call('gc');
          const res = await withCpu(target, acc[side], async () => {
            const inst = autocannon({ url: String(target.info.url), connections: c, duration: SECONDS, timeout: 10 });
            inst.on('response', (_client, status, _bytes, ms) => {
              if (status >= 200 && status < 300 && lat.length < 5_000_000) lat.push(ms);
            });
            return await inst;
          });
          if (res.errors || res.non2xx || res.timeouts) errs.push(`${side} ${c} conns: ${res.errors} errors, ${res.timeouts} timeouts, ${res.non2xx} non-2xx`);
          rps[side].push(res.requests.total / res.duration);
          p50[side].push(percentile(lat, 50));
          p99[side].push(percentile(lat, 99));
          if (c === 50) gcRow[side].push(addGc(gcSeen[side], await target.call<GcPauses>('gc'), res.requests.total));
        };
        await alternate(round, one('host'), one('raw'));
      }
      checkBudget();
      const relayOne = (side: 'host' | 'raw') => async () => {
        const lat: number[] = [];
        const target = side === 'host' ? relay! : raw!;
        await target.call('gc');
        const inst = autocannon({ url: String(target.info.url), connections: 50, duration: SECONDS, timeout: 10 });
        inst.on('response', (_client, status, _bytes, ms) => {
          if (status >= 200 && status < 300 && lat.length < 5_000_000) lat.push(ms);
        });
        const res = await inst;
        if (res.errors || res.non2xx || res.timeouts) errs.push(`relay ${side}: ${res.errors} errors, ${res.timeouts} timeouts, ${res.non2xx} non-2xx`);
        relayRps[side].push(res.requests.total / res.duration);
        relayP99[side].push(percentile(lat, 99));
        relayGc[side].push(addGc(side === 'host' ? gcSeen.relay : gcSeen.raw, await target.call<GcPauses>('gc'), res.requests.total));
      };
      await alternate(round, relayOne('host'), relayOne('raw'));
      log(`${S}: round ${round + 1}/${ROUNDS} done`);
    }
    if (errs.length) notes.push(`${S}: errors seen: ${errs.join('; ')}`);
    notes.push(
      `${S}, 50 conns: main-thread GC pauses over all rounds (PerformanceObserver 'gc' in each child) — ` +
        (['host', 'raw', 'relay'] as const).map((k) => `${k === 'relay' ? 'relaying' : k} ${gcText(gcSeen[k])}`).join('; '),
    );
    for (const [c, acc] of cpu) notes.push(cpuNote(`${S}, ${c} conn${c > 1 ? 's' : ''}`, acc.host, acc.raw, 'autocannon'));
  } catch (e) {
    settle(S, rs, e);
  } finally {
    await stop(host, raw, relay);
  }
}

// ================================================================ 2. WebSocket echo

async function sectionWs(): Promise<void> {
  const S = '2. WebSocket echo';
  const levels = [1, 20];
  const rs = levels.flatMap((c) => {
    const name = `${c} client${c > 1 ? 's' : ''}`;
    // issue 12's target is the 20-client row, as HTTP's is the 50-connection one
    const target: Target | undefined = c === 20 ? { kind: 'ratio-min', value: 0.6 } : undefined;
    return [row(S, name, 'msgs/s', 'higher', { chart: `WebSocket echo, ${name}`, ...(target ? { target } : {}) }), row(S, name, 'p99 RTT ms', 'lower')];
  });
  const relayName = '20 clients, raw `ws` relaying each frame through one worker thread';
  const relayRate = row(S, relayName, 'msgs/s', 'higher');
  const relayP99 = row(S, relayName, 'p99 RTT ms', 'lower');
  rs.push(relayRate, relayP99);
  let host: Child | undefined;
  let raw: Child | undefined;
  let relay: Child | undefined;
  try {
    const rustV0 = rustEchoV0();
    if (!rustV0 && !hasBuilt('servers-v0')) throw new Error('no WebSocket echo component: components/build/servers-v0.wasm is not built');
    log(`${S}: starting the host (${rustV0 ? 'Rust echo v0' : 'components/servers `echo`, servers-v0'}) and a raw \`ws\` echo server`);
    host = await child('host-ws', { home: sharedHome, ...(rustV0 ? { rustWasm: rustV0 } : {}) });
    raw = await child('raw-ws');
    relay = await child('raw-ws', { relay: true });
    notes.push(
      `${S}: the "relaying" rows: a raw \`ws\` server that hands each frame to one worker thread over a MessagePort and sends the worker's copy back; host column = that relay, raw column = the plain echo in the same round (the floor of one thread per process, as in section 1).`,
    );
    notes.push(
      `${S}: each client sends a 32-byte binary frame and waits for its echo before the next (closed loop), ${SECONDS} s per run. ` +
        (rustV0
          ? 'The host side is the Rust echo (components/rust, process-v0, `serve-http`): each WebSocketPush from http_server goes back as a WebSocketPush action with the same blob.'
          : 'The host side is components/servers `echo` (binds /ws, echoes Binary frames as Binary); it prints two lines (`echo got …`, `echo blob …`) ' +
            'per frame at verbosity 0, so every frame also costs two print messages to the kernel — part of the host figure.'),
    );
    const target = (c: Child) => ({ url: String(c.info.url), greeting: c.info.greeting === true });
    for (const c of [host, raw, relay]) await wsLoad(target(c).url, 1, 300, target(c).greeting); // warm-up
    const cpu = new Map<number, { host: CpuPair; raw: CpuPair }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of levels.entries()) {
        checkBudget();
        const [rate, p99] = rs.slice(i * 2, i * 2 + 2) as [Row, Row];
        const acc = cpu.get(c) ?? { host: newPair(), raw: newPair() };
        cpu.set(c, acc);
        const one = (side: 'host' | 'raw') => async () => {
          const t = target(side === 'host' ? host! : raw!);
          const res = await withCpu(side === 'host' ? host! : raw!, acc[side], () => wsLoad(t.url, c, SECONDS * 1000, t.greeting));
          rate[side].push(res.rate);
          p99[side].push(percentile(res.rtts, 99));
        };
        await alternate(round, one('host'), one('raw'));
      }
      checkBudget();
      const relayOne = (side: 'host' | 'raw') => async () => {
        const t = target(side === 'host' ? relay! : raw!);
        const res = await wsLoad(t.url, 20, SECONDS * 1000, t.greeting);
        relayRate[side].push(res.rate);
        relayP99[side].push(percentile(res.rtts, 99));
      };
      await alternate(round, relayOne('host'), relayOne('raw'));
      log(`${S}: round ${round + 1}/${ROUNDS} done`);
    }
    for (const [c, acc] of cpu) notes.push(cpuNote(`${S}, ${c} client${c > 1 ? 's' : ''}`, acc.host, acc.raw, 'ws client'));
  } catch (e) {
    settle(S, rs, e);
  } finally {
    await stop(host, raw, relay);
  }
}

// ================================================================ 3. Local messaging

/** components/build/rust-echo-v{1,0}.wasm if built (BENCH_RUST_WASM overrides the path) */
function rustEcho(): string | undefined {
  if (process.env.BENCH_RUST_WASM) return process.env.BENCH_RUST_WASM;
  for (const n of ['rust-echo-v1', 'rust-echo-v0']) if (hasBuilt(n)) return join(BUILD, `${n}.wasm`);
  return undefined;
}

/** Set when section 3's Rust echo fails to start; section 5's Rust rows are then skipped with it. */
let rustBroken: string | undefined;

/** components/build/rust-store-v1.wasm if built: the Rust storage client of sections 6 and 7 */
function rustStore(): string | undefined {
  return hasBuilt('rust-store-v1') ? join(BUILD, 'rust-store-v1.wasm') : undefined;
}

/** components/build/rust-echo-v0.wasm if built: sections 1 and 2 ask for a v0 component */
function rustEchoV0(): string | undefined {
  if (process.env.BENCH_NO_RUST) return undefined;
  return hasBuilt('rust-echo-v0') ? join(BUILD, 'rust-echo-v0.wasm') : undefined;
}


// ================================================================ 4. Outbound HTTP

async function sectionOutbound(): Promise<void> {
  const S = '4. Outbound HTTP';
  const levels = [1, 16];
  const rs = levels.map((c) => row(S, `GET a small local resource, ${c} in flight`, 'req/s', 'higher', { chart: `outbound HTTP, ${c} in flight` }));
  let res: Child | undefined;
  let host: Child | undefined;
  let raw: Child | undefined;
  try {
    if (!hasBuilt('clients-v1')) throw new Error('no http-client component: components/build/clients-v1.wasm is not built');
    log(`${S}: starting the resource server, the host (components/clients \`bench\`, clients-v1) and raw fetch`);
    res = await child('resource');
    const url = String(res.info.url);
    host = await child('host-fetch', { home: sharedHome, count: levels.length * (ROUNDS + 1) });
    raw = await child('raw-fetch');
    notes.push(
      `${S}: host = a components/clients \`bench\` process GETting ${url.replace(/:\d+/, ':PORT')} through http-client (send-request with expects-response, ` +
        'responses through receive); raw = Node\'s global fetch in a plain process. The resource server runs in a third process; all three share the CPUs.',
    );
    type Fetched = { ms: number; n: number; ok: number };
    const n = new Map<number, { host: number; raw: number }>();
    for (const c of levels) {
      checkBudget();
      const h = await host.call<Fetched>('run', { url, n: 200, concurrency: c, timeoutS: 60 }, 70000);
      await raw.call<Fetched>('run', { url, n: 300, concurrency: c }, 70000); // warm-up
      const r = await raw.call<Fetched>('run', { url, n: 600, concurrency: c }, 70000);
      n.set(c, { host: clamp((200 / h.ms) * 1000 * RUN_S, 100, 50000), raw: clamp((600 / r.ms) * 1000 * RUN_S, 300, 200000) });
    }
    const errs: string[] = [];
    const cpu = new Map<number, { host: CpuPair; raw: CpuPair }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of levels.entries()) {
        checkBudget();
        const acc = cpu.get(c) ?? { host: newPair(), raw: newPair() };
        cpu.set(c, acc);
        const one = (side: 'host' | 'raw') => async () => {
          const count = n.get(c)![side];
          const who = side === 'host' ? host! : raw!;
          const f = await withCpu(who, acc[side], () => who.call<Fetched>('run', { url, n: count, concurrency: c, timeoutS: 120 }, 130000));
          if (f.ok !== f.n) errs.push(`${side} ${c} in flight: ${f.n - f.ok} of ${f.n} failed`);
          rs[i]![side].push((f.n / f.ms) * 1000);
        };
        await alternate(round, one('host'), one('raw'));
      }
      log(`${S}: round ${round + 1}/${ROUNDS} done`);
    }
    if (errs.length) notes.push(`${S}: errors: ${errs.join('; ')}`);
    for (const [c, acc] of cpu) {
      // here `server` is the fetching side and `gen` the resource server (plus this process, idle)
      notes.push(
        `${S}, ${c} in flight: CPU (% of one core) — host ${fmt(median(acc.host.server))} % vs raw fetch ${fmt(median(acc.raw.server))} % ` +
          `for the fetching side (requests per run: host ${n.get(c)!.host}, raw ${n.get(c)!.raw})` +
          (median([...acc.host.other, ...acc.raw.other]) > 25 ? `; the resource server and other processes used ${fmt(median([...acc.host.other, ...acc.raw.other]))} %` : ''),
      );
    }
  } catch (e) {
    settle(S, rs, e);
  } finally {
    await stop(host, raw, res);
  }
}

// ================================================================ main

/** Host throughput that falls round after round against the same, long-lived processes. */
function trendNotes(): void {
  const falling = rows.filter((r) => {
    const h = r.host;
    return !r.unavailable && r.better === 'higher' && r.metric !== 'count' && h.length >= 3 && h.every((x, i) => i === 0 || x < h[i - 1]!) && h[h.length - 1]! < h[0]! * 0.8;
  });
  if (falling.length === 0) return;
  notes.push(
    'Host throughput falls from round to round in: ' +
      falling.map((r) => `${r.section} ${r.name} (${r.host.map((x) => fmt(x)).join(' → ')} ${r.metric})`).join('; ') +
      '. The same processes serve every round of a case, so the cost per message grows with the messages a process has already handled; ' +
      'the medians depend on the run length.',
  );
}

async function main(): Promise<void> {
  const m = machine();
  log(`machine: ${machineLine(m)}`);
  log(`rounds ${ROUNDS}, ${SECONDS} s per load run, budget ${BUDGET_S} s; work dir ${work}`);
  for (const n of ['probe-v0', 'probe-v1']) {
    if (!hasBuilt(n)) throw new Error(`components/build/${n}.wasm is missing: run \`node components/build.mjs --if-missing\``);
  }
  mkdirSync(sharedHome, { recursive: true });
  const sections: Array<[string, () => Promise<void>]> = [
    ['1', sectionHttp],
    ['2', sectionWs],
    ['3', async () => {
      rustBroken = await sectionMessaging({ row, child, stop, alternate, settle, log, checkBudget, notes, rounds: ROUNDS, runS: RUN_S, home: sharedHome, rustEcho: rustEcho() });
    }],
    ['4', sectionOutbound],
    ['5', () => sectionStart({ row, child, stop, settle, log, checkBudget, notes, rounds: ROUNDS, home: sharedHome, work, memoryN: MEMORY_N, manyN: MANY_N, rustEcho: rustEcho(), rustBroken })],
    ['6', () => sectionStorageDb({ row, child, stop, alternate, settle, log, checkBudget, notes, rounds: ROUNDS, runS: RUN_S, home: sharedHome, rustStore: rustStore() })],
    ['7', () => sectionStorageVfs({ row, rounds: ROUNDS, work, log, settle, checkBudget, notes, rustStore: rustStore() })],
  ];
  for (const [id, f] of sections) {
    if (ONLY.size && !ONLY.has(id)) continue;
    await f();
  }
  trendNotes();
  const elapsed = (performance.now() - startedAt) / 1000;
  if (m.cores <= 2) {
    notes.unshift(
      `This machine has ${m.cores} cores. A host node uses the main thread (kernel, HTTP server) plus one thread per process, and the load ` +
        'generator (autocannon / the ws client, in the bench process) needs CPU too: where host + generator exceed ~150 % of one core the ' +
        'numbers measure a shared, saturated machine (see the CPU notes per case).',
    );
  }
  const table = textTable(rows);
  process.stdout.write(`\nkinode-host benchmark — ${machineLine(m)} — ${elapsed.toFixed(0)} s\n\n${table}\n\nNotes:\n${notes.map((n) => `* ${n}`).join('\n')}\n`);
  writeFileSync(join(RESULTS_DIR, 'results.md'), markdown(rows, notes, m, elapsed));
  writeFileSync(join(RESULTS_DIR, 'results.svg'), svgChart(rows, m));
  process.stdout.write(`\nwrote bench/results.md and bench/results.svg\n`);
}

async function cleanup(): Promise<void> {
  for (const c of [...children]) await c.stop().catch(() => {});
  children.clear();
  rmSync(work, { recursive: true, force: true });
}

main()
  .then(cleanup, async (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => {
    // nothing of ours may keep the process alive past this point
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  });
