// Fixtures for the hardening tests: a node booted through the CLI as a child process (so its
// memory can be read from outside, in /proc/<pid>/status), probes steered through the kit RPC
// endpoint (the child has no test driver), and raw WebSocket handshakes for clients that
// misbehave on purpose.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { closedPort, makePackage, tempDir } from './helpers.js';

// KH_CLI=<main.js of another build> measures that build instead (e.g. the code before these
// limits, for the before/after figures); KH_CLI_PLAIN=1 then leaves out the flags it lacks.
const MAIN = process.env.KH_CLI ?? fileURLToPath(new URL('../host/cli/main.js', import.meta.url));
const LIMIT_FLAGS = new Set(['--max-body-inflight', '--max-ws-frame', '--ws-send-buffer', '--ws-frame-timeout', '--max-binds', '--max-response']);
const plain = (args: string[]): string[] => args.filter((a, i) => !LIMIT_FLAGS.has(a) && !LIMIT_FLAGS.has(args[i - 1] ?? ''));

export const HS = ['http_server:distro:sys', 'http-server:distro:sys'] as const;
export const HC = ['http_client:distro:sys', 'http-client:distro:sys'] as const;

/** A probe package of generation `gen`: `probe` (may use both HTTP modules) and `demo` (answers HTTP at `/`). */
export function probePackage(gen: 0 | 1): Promise<string> {
  const caps = { requestCapabilities: [HS[gen], HC[gen]], grantCapabilities: [HS[gen], HC[gen]] };
  return makePackage({
    packageName: `hard${gen}`,
    publisher: 'test.os',
    witVersion: gen,
    processes: [
      { name: 'probe', wasm: `probe-v${gen}`, ...caps },
      { name: 'demo', wasm: `probe-v${gen}`, ...caps },
    ],
  });
}

export interface ChildNode {
  pid: number;
  port: number;
  base: string;
  child: ChildProcess;
  /** all stdout lines so far */
  lines: string[];
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Boot `kinode-host run <packages> <extra args>` and wait until each `ready` line was printed. */
export async function bootChild(packages: string[], extra: string[], ready: RegExp[]): Promise<ChildNode> {
  const port = await closedPort();
  const child = spawn(process.execPath, [MAIN, 'run', ...packages, '--home', tempDir('kh-hard-'), '--port', String(port), '--password', 'pw', ...(process.env.KH_CLI_PLAIN ? plain(extra) : extra)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitForLine = (re: RegExp, timeoutMs = 60000): Promise<string> =>
    new Promise((resolve, reject) => {
      const look = (): boolean => {
        const hit = lines.find((l) => re.test(l));
        if (hit === undefined) return false;
        waiters.delete(check);
        clearTimeout(t);
        resolve(hit);
        return true;
      };
      const check = (): void => void look();
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no line matched ${re}; stdout:\n${lines.slice(-30).join('\n')}\nstderr:\n${stderr.slice(-2000)}`));
      }, timeoutMs);
      if (!look()) waiters.add(check);
    });
  const node: ChildNode = {
    pid: child.pid!,
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    lines,
    waitForLine,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(killer);
    },
  };
  try {
    await waitForLine(/^kinode-host listening on /);
    for (const re of ready) await waitForLine(re);
  } catch (e) {
    await node.stop();
    throw e;
  }
  return node;
}

/** Resident memory of a process, from /proc (bytes): `VmRSS` now, `VmHWM` the peak. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Start a new peak (`VmHWM` := current RSS); false if the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export const MiB = 1024 * 1024;

/** A probe command through `POST /rpc:distro:sys/message`; the probe's `ok` value (throws on `err`). */
export async function rpc<T = unknown>(node: ChildNode, process: string, command: Record<string, unknown>, expects = 30, blob?: Buffer): Promise<T> {
  const r = await fetch(`${node.base}/rpc:distro:sys/message`, {
    method: 'POST',
    // a blob rides as `data` (decoded by the host: the probe's own base64 decoder is slow)
    body: JSON.stringify({ process, expects_response: expects, body: JSON.stringify(command), ...(blob ? { data: blob.toString('base64') } : {}) }),
  });
  if (r.status !== 200) throw new Error(`rpc ${String(command.op)} answered ${r.status}`);
  const j = (await r.json()) as { body: number[] };
  const reply = JSON.parse(Buffer.from(j.body).toString('utf8')) as { ok?: T; err?: unknown };
  if (reply.err !== undefined) throw new Error(`probe error: ${JSON.stringify(reply.err)}`);
  return reply.ok as T;
}

export interface Entry {
  kind: string;
  source: string | null;
  body: string;
}

/** Poll a probe's inbox (through RPC) until `pred` holds for everything received so far. */
export async function inboxUntil(node: ChildNode, process: string, pred: (all: Entry[]) => boolean, timeoutMs = 60000): Promise<Entry[]> {
  const all: Entry[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    all.push(...(await rpc<Entry[]>(node, process, { op: 'inbox' })));
    if (pred(all)) return all;
    if (Date.now() > deadline) throw new Error(`inbox condition not met; last entries: ${JSON.stringify(all.slice(-5))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A raw WebSocket handshake on a plain TCP socket; resolves once the 101 is in. */
export function rawWebSocket(port: number, path: string): Promise<{ socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = got.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve({ socket, rest: got.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** The header of a masked client frame (FIN set) announcing `length` payload bytes. */
export function clientFrameHeader(opcode: number, length: number): Buffer {
  const mask = randomBytes(4);
  if (length < 126) return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | length]), mask]);
  if (length < 65536) {
    const b = Buffer.alloc(4);
    b[0] = 0x80 | opcode;
    b[1] = 0x80 | 126;
    b.writeUInt16BE(length, 2);
    return Buffer.concat([b, mask]);
  }
  const b = Buffer.alloc(10);
  b[0] = 0x80 | opcode;
  b[1] = 0x80 | 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([b, mask]);
}

/** The close code of the first server Close frame in `bytes` (unmasked server frames), if any. */
export function closeCodeIn(bytes: Buffer): number | undefined {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 0x8) return len >= 2 && at + 2 <= bytes.length ? bytes.readUInt16BE(at) : undefined;
    i = at + len;
  }
  return undefined;
}
