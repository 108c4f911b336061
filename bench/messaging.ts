// Section 3 of `npm run bench`: local messaging between two processes (JS probe pair, Rust pair,
// in-host driver → Rust echo) against two raw worker_threads doing the same ping-pong, beside the
// floor of the design (two bare workers relaying through the main thread over the host's rings,
// bench/ring-relay.ts) and the JS component's own ceiling (bench/alone.ts).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, clamp, fmt } from './common.js';
import type { Child } from './common.js';
import type { Row } from './report.js';
import type { SectionKit } from './storage-db.js';

export interface MessagingKit
  extends Pick<SectionKit, 'row' | 'child' | 'stop' | 'alternate' | 'settle' | 'log' | 'checkBudget' | 'notes' | 'rounds' | 'runS' | 'home'> {
  /** the Rust echo component when built */
  rustEcho?: string;
}

/** each case's host side runs this long before its runs are sized (see the calibration below) */
const WARM_MS = 2000;

/** Runs section 3; returns why the Rust echo could not start, if it could not (section 5 then skips its Rust rows). */
export async function sectionMessaging(k: MessagingKit): Promise<string | undefined> {
  const S = '3. Local messaging';
  const WINDOW = 64;
  const rust = k.rustEcho;
  const { row, child, stop, alternate, settle, log, checkBudget, notes } = k;
  let rustBroken: string | undefined;
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
    host = await child('host-msg', { home: k.home, ...(rust ? { rustWasm: rust } : {}) });
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
    // calibration (also the warm-up): size each run to about k.runS seconds
    for (const c of cases) {
      checkBudget();
      // warm-up (JIT of the host paths): a short run, then runs of about half a run's length until
      // WARM_MS have passed — a fresh node's first tens of thousands of messages run while V8 still
      // optimizes the kernel's and the worker's paths (docs/performance.md §32), and a run sized
      // from that cold rate would make the first round short and cold
      const hostSide = c.onRaw ? raw : host;
      const w = await hostSide.call<Run>(c.cmd, { ...c.extra, n: 2000, timeoutS: 60 }, 70000);
      let wn = clamp((2000 / w.ms) * 1000 * k.runS * 0.5, 500, 200000);
      let rate = 0;
      for (let spent = 0; spent < WARM_MS; ) {
        const h = await hostSide.call<Run>(c.cmd, { ...c.extra, n: wn, timeoutS: 60 }, 70000);
        spent += h.ms;
        rate = (wn / h.ms) * 1000;
        wn = clamp(rate * k.runS * 0.5, 500, 200000);
      }
      c.n.host = clamp(rate * k.runS, 500, 400000);
      await raw.call<Run>(c.rawCmd ?? c.cmd, { ...c.extra, n: 20000 }, 70000); // JIT warm-up
      const r = await raw.call<Run>(c.rawCmd ?? c.cmd, { ...c.extra, n: 20000 }, 70000);
      c.n.raw = clamp((20000 / r.ms) * 1000 * k.runS, 20000, 4000000);
    }
    const errs: string[] = [];
    for (let round = 0; round < k.rounds; round++) {
      for (const c of cases) {
        checkBudget();
        const one = (side: 'host' | 'raw') => async () => {
          const n = c.n[side];
          const cmd = side === 'raw' ? (c.rawCmd ?? c.cmd) : c.cmd;
          const res = await (side === 'host' && !c.onRaw ? host! : raw!).call<Run>(cmd, { ...c.extra, n, timeoutS: 120 }, 130000);
          if (res.errors) errs.push(`${side} ${c.r.name}: ${res.errors} of ${n} failed`);
          const rate = (n / res.ms) * 1000;
          c.r[side].push(rate);
          // the next run is sized from this one, so a rate that drifts keeps each run near k.runS
          c.n[side] = side === 'host' ? clamp(rate * k.runS, 500, 400000) : clamp(rate * k.runS, 20000, 4000000);
          c.sizes[side].push(n);
        };
        await alternate(round, one('host'), one('raw'));
      }
      log(`${S}: round ${round + 1}/${k.rounds} done`);
    }
    notes.push(
      `${S}: messages per run (each run sized from the one before to take about ${k.runS} s): ` +
        cases.map((c) => `${c.r.name}: host ${c.sizes.host.join(', ')}; raw ${c.sizes.raw.join(', ')}`).join(' | '),
    );
    if (errs.length) notes.push(`${S}: errors: ${errs.join('; ')}`);
    await stop(host, raw);
    host = raw = undefined;
    await componentAlone(k, S, rrRust && !rrRust.unavailable ? rust : undefined);
  } catch (e) {
    settle(S, rs, e);
  } finally {
    await stop(host, raw);
  }
  return rustBroken;
}

/** The JS probe's own ceiling: the component alone, imports that do nothing (bench/alone.ts). */
async function componentAlone(k: MessagingKit, S: string, rust: string | undefined): Promise<void> {
  const { child, stop, notes, checkBudget } = k;
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
      const rates = await c.call<number[]>('run', { home: k.home, mode, n: N, rounds: k.rounds, ...extra }, 90000);
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
      `${k.rounds} consecutive rounds of ${N} messages on one instance: ${parts.join('; ')}. ` +
      'This is the ceiling the component itself puts on the host figures that go through it.',
  );
}
