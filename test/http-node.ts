// A node serving HTTP on 127.0.0.1 for the http-server tests, the packages they install, and the
// real clients they talk to it with (Node's http, `ws`, curl, Python with `websockets` and
// `msgpack` from Debian, run with /usr/bin/python3).

import { execFile, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { KinodeNode } from '../host/node.js';
import type { HttpServerModule } from '../host/modules/http-server/index.js';
import { bootNode, makePackage, tempDir, type PackageFixture } from './helpers.js';

export const HS = ['http_server:distro:sys', 'http-server:distro:sys'] as const;
const serversWasm = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/servers-v${gen}.wasm`, import.meta.url));
const PYTHON = '/usr/bin/python3';
export const pythonOk = spawnSync(PYTHON, ['-c', 'import websockets, msgpack'], { stdio: 'ignore' }).status === 0;
export const curlOk = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

export interface HttpNode {
  node: KinodeNode;
  mod: HttpServerModule;
  port: number;
  base: string;
  home: string;
  lines: string[];
  stop(): Promise<void>;
}

/** A node serving on its own port (0: any free one on 127.0.0.1) with its own http-server module. */
export async function bootHttpNode(packages: PackageFixture[], opts: { password?: string; requestTimeoutMs?: number; maxBodyBytes?: number } = {}): Promise<HttpNode> {
  const home = tempDir('kh-hs-');
  const lines: string[] = [];
  const dirs = [];
  for (const p of packages) dirs.push(await makePackage(p));
  const node = await bootNode({
    home,
    packages: dirs,
    verbosity: 1,
    password: 'password' in opts ? opts.password : 'secret-pw',
    httpTimeoutMs: opts.requestTimeoutMs ?? 2000,
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    print: (l) => {
      lines.push(l);
      if (process.env.HS_DEBUG) console.error(`[node] ${l.slice(0, 300)}`);
    },
  });
  const mod = node.module<HttpServerModule>('http-server:distro:sys')!;
  return {
    node,
    mod,
    port: node.port,
    base: `http://127.0.0.1:${node.port}`,
    home,
    lines,
    stop: () => node.stop(),
  };
}

export const both = (gen: 0 | 1) => ({ requestCapabilities: [HS[gen]], grantCapabilities: [HS[gen]] });
export const echoPkg = (gen: 0 | 1): PackageFixture => ({
  packageName: gen === 0 ? 'echo-zero' : 'echo',
  publisher: 'template.os',
  witVersion: gen,
  processes: [{ name: 'echo', wasm: serversWasm(gen), ...both(gen) }],
});
export const probePkg = (gen: 0 | 1): PackageFixture => ({
  packageName: gen === 0 ? 'probe-zero' : 'probe',
  publisher: 'test.os',
  witVersion: gen,
  processes: [
    { name: 'probe', wasm: `probe-v${gen}`, ...both(gen) },
    { name: 'nocap', wasm: `probe-v${gen}` },
    { name: 'nogrant', wasm: `probe-v${gen}`, requestCapabilities: [HS[gen]] },
  ],
});
export const bookPkgs = (gen: 0 | 1): PackageFixture[] =>
  ['http-server', 'ws-server', 'ws-server-with-reply'].map((name) => ({
    packageName: name,
    publisher: 'template.os',
    witVersion: gen,
    processes: [{ name, wasm: serversWasm(gen), onExit: 'None', ...both(gen) }],
  }));

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with full control of headers (Host, Cookie) and the raw path. */
export function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function run(cmdName: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmdName, args, { timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export const curl = (args: string[]) => run('curl', ['-s', '-S', '--max-time', '30', ...args]);
export const python = (script: string, ...args: string[]) => run(PYTHON, ['-c', script, ...args]);

/**
 * The book's examples print `begin` and then bind, so a client that starts right after the print
 * can find the path not bound yet: a 404, which never reaches the process. Repeats `attempt`
 * while `notBound` says so (bounded); what it finally returns is the test's to judge.
 */
export async function onceBound<T>(attempt: () => Promise<T>, notBound: (r: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await attempt();
    if (!notBound(r) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
/** curl's status line or `-w %{http_code}` output, or Python websockets' refusal, says 404 */
export const said404 = (r: { stdout: string; stderr: string }): boolean =>
  /^HTTP\/1\.1 404 /.test(r.stdout) || r.stdout === '404' || /HTTP 404\b/.test(r.stderr);

/** A `ws` client that collects what it receives. */
export async function wsClient(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  const got: Array<{ kind: string; data: Buffer | string }> = [];
  let notify: (() => void) | undefined;
  const push = (kind: string, data: Buffer | string) => {
    got.push({ kind, data });
    notify?.();
  };
  ws.on('message', (d, isBinary) => push(isBinary ? 'binary' : 'text', isBinary ? (d as Buffer) : d.toString()));
  ws.on('ping', (d) => push('ping', d));
  ws.on('close', (code) => push('close', String(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected-response ${res.statusCode}`)));
  });
  const next = async (pred: (m: { kind: string; data: Buffer | string }) => boolean = () => true, timeoutMs = 10000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = got.findIndex(pred);
      if (i >= 0) return got.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`ws: nothing matching; got ${JSON.stringify(got)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        notify = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  return { ws, got, next };
}

/** A WebSocket handshake that is refused: the HTTP status it got instead. */
export function wsRefusedStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    ws.once('error', (e) => reject(e));
  });
}

export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface EchoReply {
  http: {
    source_socket_addr: string | null;
    method: string;
    url: string;
    bound_path: string;
    headers: Record<string, string>;
    url_params: Record<string, string>;
    query_params: Record<string, string>;
  };
  body: string | null;
}

export interface AwaitResult {
  ok?: { source: string; body: string };
  err?: { errorKind: string };
}
