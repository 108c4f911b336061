// A child process of the benchmark in one role (argv[2]): a node of kinode-host with the
// processes a section needs, or the raw-Node program doing the same work. The orchestrator
// (bench/run.ts) sends {id, cmd, args} over IPC and gets {id, ok, value | error} back.
// Every child answers `cpu` (its CPU time, all threads) and `stop`.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { startNode, type KinodeNode, type NodeOptions } from '../host/node.js';
import { built, hasBuilt, makePackage, sleep, type CpuSample } from './common.js';
import { runAlone } from './alone.js';
import { dbRoles } from './storage-db-target.js';
import { startRoles } from './start-target.js';
import { num, str, type Args, type Handler } from './role-args.js';
import { startRingRelay } from './ring-relay.js';
import { observeGc, takeGcPauses } from './gc-pauses.js';


const role = process.argv[2] ?? '';
const commands = new Map<string, Handler>();
const cleanups: Array<() => Promise<void> | void> = [];

const HS0 = 'http_server:distro:sys';
const HC1 = 'http-client:distro:sys';
const PUB = 'bench.os';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function bootNode(home: string, verbosity = 0, print: (line: string) => void = () => {}, extra: Partial<NodeOptions> = {}): Promise<KinodeNode> {
  mkdirSync(home, { recursive: true });
  const node = await startNode({ home, port: 0, verbosity, print, driver: true, ...extra });
  cleanups.push(() => node.stop());
  return node;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

const reEsc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first thing the probe (`probe ready <our>`) or the Rust echo (`rust echo ready <our>`) prints in init. */
function readyLine(node: KinodeNode, addr: string, rust: boolean, timeoutMs: number): Promise<string> {
  return node.waitForPrint(new RegExp(`${rust ? 'rust echo ready' : 'probe ready'} ${reEsc(addr)}$`), timeoutMs);
}

/** Install and wait for init to print; ms from the install call to the print (install errors reject). */
async function installUntilReady(node: KinodeNode, dir: string, addrs: string[], rust: boolean, timeoutMs: number): Promise<{ ms: number; installMs: number }> {
  const t0 = performance.now();
  const installed = node.install(dir).then(() => performance.now() - t0);
  const ready = Promise.all(addrs.map((a) => readyLine(node, a, rust, timeoutMs))).then(() => performance.now() - t0);
  const [installMs, ms] = await Promise.all([installed, ready]);
  return { ms, installMs };
}

/** Tell a Rust echo to bind `/` and `/ws` (components/rust `serve-http`) and wait for both Oks. */
async function rustServe(node: KinodeNode, addr: string): Promise<void> {
  await readyLine(node, addr, true, 30000);
  const from = node.prints.length;
  await node.driver().request(addr, 'serve-http');
  const bound = /rust echo bind reply: (.*)$/;
  for (let seen = 0, at = from; seen < 2; seen++) {
    const line = await node.waitForPrint(bound, 30000, at);
    if (!line.endsWith('{"Ok":null}')) throw new Error(`the Rust echo could not bind: ${line}`);
    at = node.prints.indexOf(line, at) + 1;
  }
}

// ---------------------------------------------------------------- roles

/** A worker thread running `code` (with `parentPort` and the bytes `b` in scope), ended at cleanup. */
function relayWorker(code: string, b: Uint8Array): Worker {
  const w = new Worker(`const { parentPort, workerData } = require('node:worker_threads'); const b = Buffer.from(workerData); ${code}`, {
    eval: true,
    workerData: b,
  });
  cleanups.push(async () => {
    await w.terminate();
  });
  return w;
}

const roles: Record<string, Handler> = {
  /** the Rust echo (v0, `serve-http`) bound to `/` through http-server; the probe-v0 `demo` without it */
  async 'host-http'(a) {
    const node = await bootNode(str(a, 'home'));
    const rust = typeof a.rustWasm === 'string' ? a.rustWasm : undefined;
    const dir = await makePackage({
      dir: join(str(a, 'work'), 'pkg-http'),
      packageName: 'benchhttp',
      publisher: PUB,
      witVersion: 0,
      processes: [{ name: 'demo', wasm: rust ?? 'probe-v0', requestCapabilities: [HS0], grantCapabilities: [HS0] }],
    });
    await node.install(dir);
    if (rust) {
      await rustServe(node, `fake.dev@demo:benchhttp:${PUB}`);
    } else {
      const line = await node.waitForPrint(/^benchhttp:bench\.os: bind (reply|failed)/, 30000);
      if (!line.includes('bind reply: {"Ok":null}')) throw new Error(`demo could not bind: ${line}`);
    }
    return { url: `http://127.0.0.1:${node.port}/demo:benchhttp:${PUB}` };
  },

  /**
   * node:http answering what the demo answers; with `relay`, each request goes to one worker
   * thread and its answer comes back (MessagePort both ways) before the main thread writes it:
   * the least any host with one thread per process must do per request
   */
  async 'raw-http'(a) {
    const body = Buffer.from(str(a, 'body'));
    const contentType = str(a, 'contentType');
    const answer = (res: ServerResponse, b: Uint8Array) => {
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': b.length });
      res.end(b);
    };
    let handler = (_req: IncomingMessage, res: ServerResponse) => answer(res, body);
    if (a.relay === true) {
      const relay = relayWorker(`parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, body: b }));`, body);
      const waiting = new Map<number, ServerResponse>();
      let next = 0;
      relay.on('message', (m: { id: number; body: Uint8Array }) => {
        const res = waiting.get(m.id);
        waiting.delete(m.id);
        if (res) answer(res, m.body);
      });
      handler = (req, res) => {
        const id = next++;
        waiting.set(id, res);
        relay.postMessage({ id, method: req.method, url: req.url });
      };
    }
    const server = createServer(handler);
    const port = await listen(server);
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    return { url: `http://127.0.0.1:${port}/demo:benchhttp:${PUB}` };
  },

  /** the Rust echo (v0, `serve-http`: /ws echoes frames); components/servers `echo` (servers-v0) without it */
  async 'host-ws'(a) {
    const rust = typeof a.rustWasm === 'string' ? a.rustWasm : undefined;
    if (!rust && !hasBuilt('servers-v0')) throw new Error('components/build/servers-v0.wasm is missing');
    const node = await bootNode(str(a, 'home'));
    const dir = await makePackage({
      dir: join(str(a, 'work'), 'pkg-ws'),
      packageName: 'benchws',
      publisher: PUB,
      witVersion: 0,
      processes: [{ name: 'echo', wasm: rust ?? built('servers-v0'), requestCapabilities: [HS0], grantCapabilities: [HS0] }],
    });
    await node.install(dir);
    if (rust) await rustServe(node, `fake.dev@echo:benchws:${PUB}`);
    else await node.waitForPrint(/^benchws:bench\.os: echo bound/, 30000);
    return { url: `ws://127.0.0.1:${node.port}/echo:benchws:${PUB}/ws`, greeting: !rust };
  },

  /** a `ws` server echoing every frame as it came; with `relay`, through one worker thread (see raw-http) */
  async 'raw-ws'(a) {
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    if (a.relay === true) {
      const relay = relayWorker(`parentPort.on('message', (m) => parentPort.postMessage(m));`, Buffer.alloc(0));
      const sockets = new Map<number, WebSocket>();
      let next = 0;
      relay.on('message', (m: { id: number; data: Buffer }) => sockets.get(m.id)?.send(m.data, { binary: true }));
      wss.on('connection', (ws) => {
        const id = next++;
        sockets.set(id, ws);
        ws.on('close', () => sockets.delete(id));
        ws.on('message', (data) => relay.postMessage({ id, data }));
      });
    } else {
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
    }
    const port = await listen(server);
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.close();
    });
    return { url: `ws://127.0.0.1:${port}/`, greeting: false };
  },

  /** two probe-v1 processes (a floods, b answers), plus a Rust echo responder when built */
  async 'host-msg'(a) {
    // mailboxes large enough for the floods: the fire-and-forget rows measure throughput, and a
    // default-bounded mailbox (10,000) would refuse part of a flood (counted as sent) and the
    // driver's request queued behind it
    const node = await bootNode(str(a, 'home'), 0, () => {}, { mailbox: { maxMessages: 10_000_000, maxBytes: 8 * 2 ** 30 } });
    const rust = typeof a.rustWasm === 'string' ? a.rustWasm : undefined;
    const processes = [
      { name: 'a', wasm: 'probe-v1', public: true },
      { name: 'b', wasm: 'probe-v1', public: true },
      // r answers; rf floods r (public: r's responses are capability-checked too)
      ...(rust ? [{ name: 'r', wasm: rust, public: true }, { name: 'rf', wasm: rust, public: true }] : []),
    ];
    const dir = await makePackage({ dir: join(str(a, 'work'), 'pkg-msg'), packageName: 'benchmsg', publisher: PUB, witVersion: 1, processes });
    const A = `fake.dev@a:benchmsg:${PUB}`;
    const B = `fake.dev@b:benchmsg:${PUB}`;
    const R = `fake.dev@r:benchmsg:${PUB}`;
    const RF = `fake.dev@rf:benchmsg:${PUB}`;
    const rustReady = rust ? Promise.all([readyLine(node, R, true, 30000), readyLine(node, RF, true, 30000)]) : undefined;
    await installUntilReady(node, dir, [A, B], false, 30000);
    const d = node.driver();
    await d.request(B, { op: 'autoRespond', response: { body: 'pong' }, quiet: true }, { expects: 10 });
    // a Rust echo that does not start leaves the probe pair usable
    let rustError: string | undefined;
    if (rustReady) await rustReady.catch((e: Error) => (rustError = `the Rust echo did not start: ${e.message.split('\n')[0]}`));
    const flood = async (body: Record<string, unknown>, timeoutS: number) => {
      const r = await d.request(A, { op: 'flood', ...body }, { expects: timeoutS });
      const j = r.json<{ ok?: { n: number; ms: number; errors?: number }; err?: string }>();
      if (!j.ok) throw new Error(`flood failed: ${r.text}`);
      return j.ok;
    };
    commands.set('rr', async (c) => {
      const target = c.target === 'rust' ? R : B;
      const r = await flood({ target, n: num(c, 'n'), window: num(c, 'window'), expects: 5 }, num(c, 'timeoutS', 60));
      return { ms: r.ms, errors: r.errors ?? 0 };
    });
    // the in-host test driver (a module on the main thread) as the sender: no JS component in the path
    const x = new TextEncoder().encode('x');
    commands.set('rr-driver', async (c) => {
      const target = c.target === 'rust' ? R : B;
      const n = num(c, 'n');
      const windowSize = num(c, 'window');
      const expects = num(c, 'timeoutS', 60);
      let sent = 0;
      let done = 0;
      let errors = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const settled = () => {
          done++;
          if (done === n) resolve();
          else if (sent < n) one();
        };
        const one = () => {
          sent++;
          d.request(target, x, { expects }).then(settled, () => {
            errors++;
            settled();
          });
        };
        while (sent < Math.min(n, windowSize)) one();
      });
      return { ms: performance.now() - t0, errors };
    });
    // a Rust pair: rf keeps `window` requests with expects-response in flight to r
    /** rf floods r (window 0: fire-and-forget); resolves with rf's `flood done <n> <errors> <ms>` report */
    const rustFlood = async (n: number, windowSize: number, timeoutS: number) => {
      const earlier = new Set(d.received); // waitFor also sees replies of earlier runs
      await d.request(RF, `flood ${R} ${n} ${windowSize}`);
      return d.waitFor((m) => !earlier.has(m) && m.source === RF && m.text.startsWith('flood done '), timeoutS * 1000);
    };
    commands.set('rr-rust-pair', async (c) => {
      const t0 = performance.now();
      const r = await rustFlood(num(c, 'n'), num(c, 'window'), num(c, 'timeoutS', 60));
      const [, , , errors] = r.text.split(' ');
      return { ms: performance.now() - t0, errors: Number(errors) };
    });
    // the same pair fire-and-forget: timed until r answers a request queued behind the flood
    commands.set('ff-rust-pair', async (c) => {
      const t0 = performance.now();
      await rustFlood(num(c, 'n'), 0, num(c, 'timeoutS', 60));
      await d.request(R, 'after the flood', { expects: num(c, 'timeoutS', 60) });
      return { ms: performance.now() - t0, errors: 0 };
    });
    commands.set('ff', async (c) => {
      const t0 = performance.now();
      await flood({ target: B, n: num(c, 'n'), expects: null }, num(c, 'timeoutS', 60));
      // b handles this command after every flooded message (one inbox, in order)
      await d.request(B, { op: 'getBlob' }, { expects: num(c, 'timeoutS', 60) });
      return { ms: performance.now() - t0, errors: 0 };
    });
    return { rust: rust !== undefined && rustError === undefined, rustError };
  },

  /** two worker_threads doing the same over a MessagePort */
  async 'raw-msg'() {
    const file = new URL('./raw-worker.js', import.meta.url);
    const wa = new Worker(file, { workerData: { mode: 'a' } });
    const wb = new Worker(file, { workerData: { mode: 'b' } });
    cleanups.push(async () => {
      await wa.terminate();
      await wb.terminate();
    });
    const { port1, port2 } = new MessageChannel();
    const up = (w: Worker) => new Promise<void>((r) => w.once('message', () => r()));
    const ups = [up(wa), up(wb)];
    wa.postMessage({ port: port1 }, [port1]);
    wb.postMessage({ port: port2 }, [port2]);
    await Promise.all(ups);
    const next = <T>(w: Worker, pred: (m: unknown) => boolean): Promise<T> =>
      new Promise((resolve) => {
        const on = (m: unknown) => {
          if (!pred(m)) return;
          w.off('message', on);
          resolve(m as T);
        };
        w.on('message', on);
      });
    let seq = 0;
    commands.set('rr', async (c) => {
      const me = ++seq;
      const done = next<{ ms: number }>(wa, (m) => (m as { seq?: number }).seq === me);
      wa.postMessage({ cmd: 'rr', n: num(c, 'n'), window: num(c, 'window'), seq: me });
      return { ms: (await done).ms, errors: 0 };
    });
    // the floor of the design: the same ping-pong relayed by this thread over the host's rings (bench/ring-relay.ts)
    const relay = await startRingRelay(file);
    cleanups.push(() => relay.stop());
    commands.set('rr-ring', async (c) => ({ ms: await relay.rr(num(c, 'n'), num(c, 'window')), errors: 0 }));
    commands.set('ff', async (c) => {
      const me = ++seq;
      const t0 = performance.now();
      const done = next<{ ffDone: number }>(wb, (m) => (m as { seq?: number }).seq === me);
      wa.postMessage({ cmd: 'ff', n: num(c, 'n'), window: 0, seq: me });
      const got = (await done).ffDone;
      return { ms: performance.now() - t0, errors: num(c, 'n') - got };
    });
    return {};
  },

  /** the small local resource fetched by section 4 */
  async resource() {
    const body = Buffer.from('the file\nserved by the bench\n');
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
    });
    const port = await listen(server);
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    return { url: `http://127.0.0.1:${port}/file` };
  },

  /** Node's fetch, called directly */
  async 'raw-fetch'() {
    commands.set('run', async (c) => {
      const url = str(c, 'url');
      const n = num(c, 'n');
      const concurrency = num(c, 'concurrency');
      let started = 0;
      let ok = 0;
      const t0 = performance.now();
      const lane = async () => {
        while (started < n) {
          started++;
          try {
            const r = await fetch(url);
            await r.arrayBuffer();
            if (r.status === 200) ok++;
          } catch {
            // counted as not ok
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
      return { ms: performance.now() - t0, n, ok };
    });
    return {};
  },

  /** components/clients `bench` processes (clients-v1), each good for one run */
  async 'host-fetch'(a) {
    if (!hasBuilt('clients-v1')) throw new Error('components/build/clients-v1.wasm is missing');
    const node = await bootNode(str(a, 'home'));
    const count = num(a, 'count');
    const processes = Array.from({ length: count }, (_, i) => ({
      name: `bench${i}`,
      wasm: built('clients-v1'),
      requestCapabilities: [HC1],
      grantCapabilities: [HC1],
    }));
    const dir = await makePackage({ dir: join(str(a, 'work'), 'pkg-fetch'), packageName: 'benchfetch', publisher: PUB, witVersion: 1, processes });
    await node.install(dir);
    const d = node.driver();
    let used = 0;
    commands.set('run', async (c) => {
      if (used >= count) throw new Error('no unused bench process left');
      const who = `fake.dev@bench${used++}:benchfetch:${PUB}`;
      const t0 = performance.now();
      await d.request(who, { url: str(c, 'url'), n: num(c, 'n'), concurrency: num(c, 'concurrency') });
      const r = await d.waitFor((m) => m.source === who, num(c, 'timeoutS', 60) * 1000);
      const j = r.json<{ n: number; ok: number; ms: number }>();
      return { ms: j.ms, wallMs: performance.now() - t0, n: j.n, ok: j.ok };
    });
    return {};
  },

};

roles.alone = async () => {
  commands.set('run', async (c) => {
    const mode = str(c, 'mode');
    if (mode !== 'answer' && mode !== 'take' && mode !== 'flood-rr' && mode !== 'echo') throw new Error(`unknown mode ${mode}`);
    const wasm = typeof c.wasm === 'string' ? { path: c.wasm, generation: (c.generation === 0 ? 0 : 1) as 0 | 1 } : undefined;
    let tmpDir: string | undefined;
    if (c.tmp === true) {
      tmpDir = join(str(c, 'home'), 'alone-tmp');
      mkdirSync(tmpDir, { recursive: true });
    }
    return runAlone(str(c, 'home'), mode, num(c, 'n'), num(c, 'rounds'), wasm, tmpDir);
  });
  return {};
};

Object.assign(roles, dbRoles({ commands, cleanups, bootNode })); // kv and sqlite rows (bench/storage-db.ts)
Object.assign(roles, startRoles({ commands, cleanups, bootNode, installUntilReady, gc })); // process start and memory (bench/process-start.ts)

// ---------------------------------------------------------------- IPC loop

commands.set('cpu', async (): Promise<CpuSample> => {
  const u = process.cpuUsage();
  return { cpuUs: u.user + u.system, at: performance.now() };
});
// the main thread's GC pauses since the last `gc` (bench/gc-pauses.ts)
observeGc();
commands.set('gc', () => takeGcPauses());
commands.set('stop', async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // shutting down anyway
    }
  }
  setTimeout(() => process.exit(0), 50);
  return null;
});
commands.set('start', async (a) => {
  const r = roles[role];
  if (!r) throw new Error(`unknown role ${role}`);
  return r(a);
});

process.on('message', (m: { id: number; cmd: string; args: Args }) => {
  const h = commands.get(m.cmd);
  const p = h ? h(m.args ?? {}) : Promise.reject(new Error(`unknown command ${m.cmd}`));
  p.then(
    (value) => process.send?.({ id: m.id, ok: true, value }),
    (e: unknown) => process.send?.({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0)); // the orchestrator is gone
