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
import { cpus, freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD, Child, RESULTS_DIR, cpuPercent, fmt, hasBuilt, median, percentile, selfCpu } from './common.js';
import { machine, machineLine, markdown, svgChart, textTable, type Row, type Target } from './report.js';
import { wsLoad } from './ws-load.js';
import type { GcPauses } from './gc-pauses.js';
import { sectionStorageDb } from './storage-db.js';
import { sectionStorageVfs } from './storage-vfs.js';

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
class BudgetExhausted extends Error {}
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

/** components/build/rust-store-v1.wasm if built: the Rust storage client of sections 6 and 7 */
function rustStore(): string | undefined {
  return hasBuilt('rust-store-v1') ? join(BUILD, 'rust-store-v1.wasm') : undefined;
}

/** components/build/rust-echo-v0.wasm if built: sections 1 and 2 ask for a v0 component */
function rustEchoV0(): string | undefined {
  if (process.env.BENCH_NO_RUST) return undefined;
  return hasBuilt('rust-echo-v0') ? join(BUILD, 'rust-echo-v0.wasm') : undefined;
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.round(x)));

async function sectionMessaging(): Promise<void> {
  const S = '3. Local messaging';
  const WINDOW = 64;
  const rust = rustEcho();
  const rr = row(S, `request/response, expects-response, ${WINDOW} in flight, JS probe pair`, 'msgs/s', 'higher', { chart: 'local req/resp, JS pair' });
  const ff = row(S, 'fire-and-forget', 'msgs/s', 'higher', { chart: 'local fire-and-forget' });
  const rrPair = rust
    ? row(S, `request/response, expects-response, ${WINDOW} in flight, Rust pair`, 'msgs/s', 'higher', { chart: 'local req/resp, Rust pair', target: { kind: 'abs-min', value: 200000 } })
    : undefined;
  // the floor of the design beside the target row: its host column is the relay, its raw column the raw pair
  const rrRing = row(S, `request/response, ${WINDOW} in flight, two bare workers relaying flat messages through the main thread over the host's rings (the floor of the design)`, 'msgs/s', 'higher');
  const ffPair = rust ? row(S, 'fire-and-forget, Rust pair', 'msgs/s', 'higher', { chart: 'local fire-and-forget, Rust pair' }) : undefined;
  const rrRust = rust
    ? row(S, `request/response, in-host driver → Rust echo, ${WINDOW} in flight`, 'msgs/s', 'higher', { chart: 'local req/resp, driver → Rust echo', target: { kind: 'abs-min', value: 200000 } })
    : undefined;
  const rs = [...(rrPair ? [rrPair] : []), rrRing, ...(ffPair ? [ffPair] : []), rr, ff, ...(rrRust ? [rrRust] : [])];
  if (!rust) notes.push(`${S}: Rust echo component not available (components/build/rust-echo-v{0,1}.wasm not built${existsSync(join(BUILD, '..', 'rust')) ? '' : '; there is no components/rust/'}): JS probe only`);
  let host: Child | undefined;
  let raw: Child | undefined;
  try {
    log(`${S}: starting the host (probe-v1 pair${rust ? ' + Rust echo' : ''}) and the raw worker_threads pair`);
    host = await child('host-msg', { home: sharedHome, ...(rust ? { rustWasm: rust } : {}) });
    raw = await child('raw-msg');
    if (rrRust && host.info.rust !== true) rrRust.unavailable = rrPair!.unavailable = ffPair!.unavailable = rustBroken = String(host.info.rustError ?? 'the Rust echo did not start');
    notes.push(
      `${S}: host = probe \`a\` runs the probe's \`flood\` op against probe \`b\` (\`autoRespond\`, quiet), 1-byte bodies; ` +
        'request/response keeps 64 requests with expects-response in flight and takes each response through receive; ' +
        "fire-and-forget is timed until b has taken every message (a command to b queued behind them). The raw baseline is two Node worker_threads " +
        'doing the same ping-pong over a MessagePort (structured-clone posts, event-driven). The load generator is a process/worker of the pair itself.' +
        (rrPair
          ? ' The Rust pair: Rust echo `rf` runs its `flood` command against Rust echo `r` (components/rust; both process-v1, no JS inside), timed from the driver\'s command to rf\'s `flood done` report; its fire-and-forget case sends without expects-response and is timed until r answers a request the driver queues behind the flood.'
          : '') +
        (rrRust
          ? ' The Rust echo case has no JS component in the path: the sender is the node\'s in-host test driver (a module on the main thread, one promise and timer per request), ' +
            'the responder the Rust echo (components/rust, echoes each body); its raw baseline is the same worker pair.'
          : ''),
    );
    notes.push(
      `${S}: the "floor of the design" row: two bare worker threads doing the request/response of the Rust pair (64 in flight, one send per message) through the main thread with the host's own machinery and nothing else ` +
        '(bench/ring-relay.ts): the shared-memory rings of host/process/ring.ts both ways, the doorbell post that makes the main thread drain a worker\'s out-ring, the deliveries of one event-loop turn flushed as one ring entry with one wake-up, ' +
        'the workers parked in Atomics.wait between batches as a process worker is; each message a flat 16-byte record (no component, no codec, no routing, capabilities, timers or mailbox). ' +
        'Its host column is that relay, its raw column the MessagePort pair in the same round: what the Rust pair spends above it is the host\'s per-message work, not the design.',
    );
    type Run = { ms: number; errors: number };
    /** onRaw: the case's host column runs in the raw child (the relaying floor) */
    type Case = { r: Row; cmd: string; rawCmd?: string; onRaw?: boolean; extra: Record<string, unknown>; n: { host: number; raw: number }; sizes: { host: number[]; raw: number[] } };
    const sizes = () => ({ host: [] as number[], raw: [] as number[] });
    const cases: Case[] = [
      ...(rrPair && !rrPair.unavailable ? [{ r: rrPair, cmd: 'rr-rust-pair', rawCmd: 'rr', extra: { window: WINDOW }, n: { host: 0, raw: 0 }, sizes: sizes() }] : []),
      { r: rrRing, cmd: 'rr-ring', rawCmd: 'rr', onRaw: true, extra: { window: WINDOW }, n: { host: 0, raw: 0 }, sizes: sizes() },
      ...(ffPair && !ffPair.unavailable ? [{ r: ffPair, cmd: 'ff-rust-pair', rawCmd: 'ff', extra: { window: 0 }, n: { host: 0, raw: 0 }, sizes: sizes() }] : []),
      { r: rr, cmd: 'rr', extra: { window: WINDOW }, n: { host: 0, raw: 0 }, sizes: sizes() },
      { r: ff, cmd: 'ff', extra: { window: 0 }, n: { host: 0, raw: 0 }, sizes: sizes() },
      ...(rrRust && !rrRust.unavailable ? [{ r: rrRust, cmd: 'rr-driver', rawCmd: 'rr', extra: { window: WINDOW, target: 'rust' }, n: { host: 0, raw: 0 }, sizes: sizes() }] : []),
    ];
    // calibration (also the warm-up): size each run to about RUN_S seconds
    for (const c of cases) {
      checkBudget();
      // warm-up (JIT of the host paths): a short run, then one of about half a run's length
      const hostSide = c.onRaw ? raw : host;
      const w = await hostSide.call<Run>(c.cmd, { ...c.extra, n: 2000, timeoutS: 60 }, 70000);
      const wn = clamp((2000 / w.ms) * 1000 * RUN_S * 0.5, 500, 200000);
      const h = await hostSide.call<Run>(c.cmd, { ...c.extra, n: wn, timeoutS: 60 }, 70000);
      c.n.host = clamp((wn / h.ms) * 1000 * RUN_S, 500, 400000);
      await raw.call<Run>(c.rawCmd ?? c.cmd, { ...c.extra, n: 20000 }, 70000); // JIT warm-up
      const r = await raw.call<Run>(c.rawCmd ?? c.cmd, { ...c.extra, n: 20000 }, 70000);
      c.n.raw = clamp((20000 / r.ms) * 1000 * RUN_S, 20000, 4000000);
    }
    const errs: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        checkBudget();
        const one = (side: 'host' | 'raw') => async () => {
          const n = c.n[side];
          const cmd = side === 'raw' ? (c.rawCmd ?? c.cmd) : c.cmd;
          const res = await (side === 'host' && !c.onRaw ? host! : raw!).call<Run>(cmd, { ...c.extra, n, timeoutS: 120 }, 130000);
          if (res.errors) errs.push(`${side} ${c.r.name}: ${res.errors} of ${n} failed`);
          const rate = (n / res.ms) * 1000;
          c.r[side].push(rate);
          // the next run is sized from this one, so a rate that drifts keeps each run near RUN_S
          c.n[side] = side === 'host' ? clamp(rate * RUN_S, 500, 400000) : clamp(rate * RUN_S, 20000, 4000000);
          c.sizes[side].push(n);
        };
        await alternate(round, one('host'), one('raw'));
      }
      log(`${S}: round ${round + 1}/${ROUNDS} done`);
    }
    notes.push(
      `${S}: messages per run (each run sized from the one before to take about ${RUN_S} s): ` +
        cases.map((c) => `${c.r.name}: host ${c.sizes.host.join(', ')}; raw ${c.sizes.raw.join(', ')}`).join(' | '),
    );
    if (errs.length) notes.push(`${S}: errors: ${errs.join('; ')}`);
    await stop(host, raw);
    host = raw = undefined;
    await componentAlone(S, rrRust && !rrRust.unavailable ? rust : undefined);
  } catch (e) {
    settle(S, rs, e);
  } finally {
    await stop(host, raw);
  }
}

/** The JS probe's own ceiling: the component alone, imports that do nothing (bench/alone.ts). */
async function componentAlone(S: string, rust: string | undefined): Promise<void> {
  const N = 3000;
  const rustArgs = rust ? { wasm: rust, generation: rust.includes('-v0') ? 0 : 1 } : {};
  const modes: Array<[string, string, Record<string, unknown>]> = [
    ['answer', 'the probe answering requests (receive + send-response)', { tmp: true }],
    ['flood-rr', "the probe's flood request/response (send-request with expects-response + receive)", { tmp: true }],
    ['take', 'the probe taking requests without expects-response (receive only)', { tmp: true }],
    ...(rust
      ? ([
          ['echo', 'the Rust echo answering requests, with a TEMP_DIR preopen as the host gives', { ...rustArgs, tmp: true }],
          ['echo', 'the same without TEMP_DIR', { ...rustArgs, tmp: false }],
        ] as Array<[string, string, Record<string, unknown>]>)
      : []),
  ];
  const parts: string[] = [];
  for (const [mode, what, extra] of modes) {
    checkBudget();
    const c = await child('alone');
    try {
      const rates = await c.call<number[]>('run', { home: sharedHome, mode, n: N, rounds: ROUNDS, ...extra }, 90000);
      parts.push(`${what}: ${rates.map((x) => fmt(x)).join(' → ')} msgs/s`);
    } catch (e) {
      parts.push(`${what}: failed (${e instanceof Error ? e.message : String(e)})`);
    } finally {
      await stop(c);
    }
  }
  notes.push(
    `${S}: the components alone — transpiled by the host's loader, instantiated in one thread with WASI (TEMP_DIR preopened unless said) and a stand-in ` +
      '`kinode:process/standard` whose imports do nothing (no kernel, no worker, no ports; bench/alone.ts), ' +
      `${ROUNDS} consecutive rounds of ${N} messages on one instance: ${parts.join('; ')}. ` +
      'This is the ceiling the component itself puts on the host figures that go through it.',
  );
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

// ================================================================ 5. Process start and memory

/** Set at the first failure of the Rust echo; later Rust measurements are skipped with it. */
let rustBroken: string | undefined;

/** A Rust-echo measurement that fails marks its row, not the section. */
async function rustTry(r: Row, f: () => Promise<unknown>): Promise<void> {
  if (rustBroken) r.unavailable ??= rustBroken;
  if (r.unavailable) return;
  try {
    await f();
  } catch (e) {
    if (e instanceof BudgetExhausted) throw e;
    rustBroken = `Rust echo: ${e instanceof Error ? e.message : String(e)}`;
    r.unavailable = rustBroken;
  }
}

async function sectionStart(): Promise<void> {
  const S = '5. Process start';
  const rust = rustEcho();
  const cold = row(S, 'cold: fresh home, install → init runs', 'ms', 'lower');
  const warm = row(S, 'warm: second node on the same home', 'ms', 'lower', { target: { kind: 'abs-max', value: 60 } });
  // the floor under the JS warm start, as for the Rust one below (docs/performance.md §20)
  const warmPages = row(S, 'warm: memory faulted in during the start', 'MiB', 'lower');
  const warmFloor = row(S, 'warm: bare Node faulting in as many fresh pages (the floor)', 'ms', 'lower');
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
  const rs = [cold, warm, warmPages, warmFloor, hot, mem, fit, ...[coldR, warmR, warmRPages, warmRFloor, memR, fitR, manyRss, manyTime].filter((r): r is Row => r !== undefined)];
  notes.push(
    `${S}: time from \`node.install(dir)\` to the process's first print (\`probe ready …\` / \`rust echo ready …\`, printed first thing in init)` +
      '. cold = fresh home (jco transpile + compile + instantiate); warm = a second node (new child process) on that home, so the transpile cache is on disk but nothing is compiled in memory; ' +
      'hot = a second package in the same node. Each node idles 500 ms after boot, and 400 ms before each install (its spare worker, replaced after every start, has booted). ' +
      'The transpile cache also holds V8\'s code cache of the jco glue (written by the first start), so a warm start neither transpiles nor compiles the glue; the core wasm modules are compiled again in a new node. ' +
      'The warm starts\' floor rows (JS and Rust echo): the pages the node process faulted in between `install` and the first print (summed over the threads that existed before the install: the kernel thread, the spare worker taken, the helper threads of V8 and libuv; not the replacement spare booted meanwhile; it includes the probe started just before, which may still be compiling, so it is an upper bound of the start\'s own), and the time bare Node (the same child, right after) takes to fault in as many fresh pages, one byte written per 4 KiB page: on a virtual machine each first touch of a page is a trap into the host. ' +
        'Raw column: `new Worker()` of a trivial script until its first message. Memory: RSS of the node process (all threads) after GC, before and after ' +
      `${MEMORY_N} idle processes, divided by ${MEMORY_N}; raw column: ${MEMORY_N} idle worker_threads. "In 1 GiB" = floor(1024 MiB / per-process MiB).`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      checkBudget();
      const home = join(work, `start-home-${round}`);
      let a: Child | undefined;
      let b: Child | undefined;
      try {
        a = await child('start', { home });
        cold.host.push((await a.call<{ ms: number }>('install', { packageName: `cold${round}` }, 120000)).ms);
        if (coldR) await rustTry(coldR, async () => coldR.host.push((await a!.call<{ ms: number }>('install', { packageName: `coldr${round}`, rustWasm: rust }, 120000)).ms));
        hot.host.push((await a.call<{ ms: number }>('install', { packageName: `hot${round}` }, 60000)).ms);
        const w = (await a.call<{ ms: number }>('rawWorker', {}, 30000)).ms;
        cold.raw.push(w);
        hot.raw.push(w);
        await stop(a);
        a = undefined;
        b = await child('start', { home });
        const wj = await b.call<{ ms: number; faults: number }>('install', { packageName: `warm${round}` }, 60000);
        warm.host.push(wj.ms);
        warmPages.host.push((wj.faults * 4096) / 2 ** 20);
        warmFloor.host.push((await b.call<{ ms: number }>('touchPages', { pages: wj.faults }, 30000)).ms);
        if (warmR) {
          await rustTry(warmR, async () => {
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
      log(`${S}: round ${round + 1}/${ROUNDS} done`);
    }
    const memory = async (kind: string, extra: Record<string, unknown> = {}) => {
      checkBudget();
      const c = await child('memory', { home: sharedHome, kind, n: MEMORY_N, ...extra });
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
      await rustTry(memR, async () => {
        const r = await memory('rust', { rustWasm: rust });
        memR.host.push(r.perProcess / MiB);
        memR.raw.push(w.perProcess / MiB);
        fitR.host.push(Math.floor(1024 / (r.perProcess / MiB)));
        fitR.raw.push(Math.floor(1024 / (w.perProcess / MiB)));
      });
      if (memR.unavailable) fitR.unavailable = memR.unavailable;
    }
    if (manyRss && manyTime) await manyIdle(S, rust!, memR, manyRss, manyTime);
  } catch (e) {
    settle(S, rs, e);
  }
}

/** N idle Rust echo processes in one node, each answering one request: the node's RSS and the time. */
async function manyIdle(S: string, rust: string, memR: Row | undefined, rssRow: Row, timeRow: Row): Promise<void> {
  // refuse to run the machine out of memory: the per-process figure just measured, with margin
  const perMiB = memR?.host[0] ?? 24;
  const needMiB = MANY_N * perMiB * 1.3 + 1024;
  const freeMiB = freemem() / 2 ** 20;
  if (needMiB > freeMiB) {
    rssRow.unavailable = timeRow.unavailable = `needs ~${fmt(needMiB / 1024)} GiB free, the machine has ${fmt(freeMiB / 1024)} GiB (BENCH_MANY_N lowers the count)`;
    notes.push(`${S}: ${rssRow.name}: not run: ${rssRow.unavailable}`);
    return;
  }
  await rustTry(rssRow, async () => {
    checkBudget();
    const c = await child('many', { home: sharedHome, n: MANY_N, rustWasm: rust });
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
    ['3', sectionMessaging],
    ['4', sectionOutbound],
    ['5', sectionStart],
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
