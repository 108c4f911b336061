// Shared test fixtures: temp homes, package folders around the built probe components,
// and a node with the test driver.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type KinodeNode, type NodeOptions } from '../host/node.js';

export interface ProcessFixture {
  name: string;
  wasm: 'probe-v0' | 'probe-v1' | string;
  onExit?: unknown;
  requestCapabilities?: unknown[];
  grantCapabilities?: unknown[];
  public?: boolean;
  requestNetworking?: boolean;
}

export interface PackageFixture {
  dir?: string;
  packageName: string;
  publisher: string;
  witVersion?: number | null;
  processes: ProcessFixture[];
  files?: Record<string, string | Uint8Array>;
}

type MakePackage = (p: PackageFixture & { dir: string }) => string;

let makePackageFn: MakePackage | undefined;
async function loadMakePackage(): Promise<MakePackage> {
  if (!makePackageFn) {
    const url = new URL('../../components/packages.mjs', import.meta.url);
    makePackageFn = ((await import(url.href)) as { makePackage: MakePackage }).makePackage;
  }
  return makePackageFn;
}

const tempDirs: string[] = [];
export function tempDir(prefix = 'kh-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); // a browser may still be writing its profile
}

// The backstop: whatever a test file made and did not remove (a describe after the one whose
// after() cleaned up, a failed before()) goes when its process exits (`node --test` runs each
// file in a process of its own). Measured before: each `npm test` left ~37 MB in /tmp.
process.on('exit', () => {
  try {
    cleanupTempDirs();
  } catch {
    // exiting anyway: a directory that will not go must not change the exit code
  }
});

/**
 * The environment for a browser under test: its own TMPDIR (one of ours, so it goes with the
 * rest). Chromium with --disable-dev-shm-usage keeps its shared memory files in TMPDIR, and a
 * browser that is killed leaves their directory behind.
 */
export function browserEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.TMPDIR = tempDir('kh-browser-tmp-');
  return env;
}

export async function makePackage(p: PackageFixture): Promise<string> {
  const mk = await loadMakePackage();
  return mk({ ...p, dir: p.dir ?? join(tempDir('kh-pkg-'), `${p.packageName}`) });
}

export async function bootNode(opts: Partial<NodeOptions> & { packages?: string[] } = {}): Promise<KinodeNode> {
  return startNode({ home: opts.home ?? tempDir('kh-home-'), port: 0, verbosity: 1, print: () => {}, driver: true, ...opts });
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Send a command to a probe and return its `ok` result (throws on `err`). */
export async function cmd<T = unknown>(node: KinodeNode, target: string, command: Record<string, unknown>, expects = 10): Promise<T> {
  const r = await node.driver().request(target, command, { expects });
  const j = r.json<{ ok?: T; err?: string }>();
  if ('err' in j && j.err !== undefined) throw new Error(`probe error: ${JSON.stringify(j.err)}`);
  return j.ok as T;
}

export interface InboxEntry {
  kind: 'request' | 'response' | 'error';
  source: string;
  body: string;
  expects: number | null;
  context: string | null;
  blob: { mime: string | null; b64: string } | null;
  errorKind?: string;
  target?: string;
  errorMessageBody?: string;
  errorBlob?: { mime: string | null; b64: string } | null;
  caps: Array<{ issuer: string; params: string }>;
}

/** Poll a probe's inbox until `pred` holds for the accumulated entries (bounded). */
export async function inboxUntil(
  node: KinodeNode,
  target: string,
  pred: (all: InboxEntry[]) => boolean,
  timeoutMs = 15000,
): Promise<InboxEntry[]> {
  const all: InboxEntry[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    all.push(...(await cmd<InboxEntry[]>(node, target, { op: 'inbox' })));
    if (pred(all)) return all;
    if (Date.now() > deadline) throw new Error(`inbox condition not met; inbox: ${JSON.stringify(all)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Poll `cond` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
