// Shared by the homepage, login and WebSocket-API tests: third-party clients (curl, Python
// websockets, headless Chromium via playwright-core) and a node with the homepage, a password,
// probe packages of both generations and its prints kept.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { KinodeNode } from '../host/node.js';
import { bootNode, browserEnv, makePackage, tempDir, type PackageFixture } from './helpers.js';

export const PASSWORD = 'correct horse battery staple';
export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';
export const pythonOk = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
export const curlOk = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
export const chromiumOk = existsSync(CHROMIUM);
export const HS = ['http_server:distro:sys', 'http-server:distro:sys'] as const;
export const HOMEPAGE = 'homepage:homepage:sys';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 120000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** curl with `-i` (status line and headers first); returns status, lower-cased headers, body. */
export async function curl(args: string[]): Promise<{ status: number; headers: Map<string, string>; body: string; raw: string }> {
  const r = await run('curl', ['-s', '-S', '-i', '--max-time', '60', ...args]);
  if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
  const sep = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, sep).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: r.stdout.slice(sep + 4), raw: r.stdout };
}

export const python = (script: string, ...args: string[]): Promise<Run> => run(PYTHON, ['-c', script, ...args]);

/** A probe package of generation `gen` whose probe may message http-server and the homepage and lets both answer it (GetApps replies need that, as in the runtime). */
export function probePackage(gen: 0 | 1, name: string, extra: Partial<PackageFixture['processes'][number]> = {}, more: PackageFixture['processes'] = []): PackageFixture {
  return {
    packageName: name,
    publisher: 'test.os',
    witVersion: gen,
    processes: [
      { name: 'probe', wasm: `probe-v${gen}`, requestCapabilities: [HS[gen], HOMEPAGE], grantCapabilities: [HS[gen], HOMEPAGE], ...extra },
      ...more,
    ],
  };
}

export interface TestNode {
  node: KinodeNode;
  base: string;
  port: number;
  lines: string[];
}

export async function bootWebNode(packages: PackageFixture[], opts: { nodeName?: string; password?: string } = {}): Promise<TestNode> {
  const dirs = [];
  for (const p of packages) dirs.push(await makePackage(p));
  const lines: string[] = [];
  const node = await bootNode({
    home: tempDir('kh-hp-'),
    packages: dirs,
    verbosity: 1,
    password: opts.password ?? PASSWORD,
    ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
    print: (l) => {
      lines.push(l);
      if (process.env.HP_DEBUG) console.error(`[node] ${l.slice(0, 300)}`);
    },
  });
  // the probe's special names (components/README.md) never print "probe ready"
  for (const p of packages) for (const pr of p.processes) if (!/^(trap-init|exit-init|spin-init|restart-loop|demo)/.test(pr.name)) await node.waitForPrint(new RegExp(`probe ready .*@${pr.name}:${p.packageName}:`), 60000);
  return { node, base: `http://127.0.0.1:${node.port}`, port: node.port, lines };
}

/** POST /login with a JSON body through curl; returns the cookie pair (`name=value`) or throws. */
export async function login(t: TestNode, body: Record<string, unknown> = { password: PASSWORD }): Promise<string> {
  const r = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body), `${t.base}/login`]);
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.body}`);
  return r.headers.get('set-cookie')!.replace(/;$/, '');
}

// ------------------------------------------------------------------ Chromium

/** Headless Chromium with a fresh profile. */
export async function launch(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('kh-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    env: browserEnv(),
    viewport: { width: 1280, height: 860 },
  });
}

/** Log in through the page itself; returns the body the page posted to /login. */
export async function loginInPage(page: Page, base: string, path = '/'): Promise<Record<string, unknown>> {
  await page.goto(`${base}${path}`);
  await page.waitForSelector('#login-form');
  await page.fill('#password', PASSWORD);
  const posted = page.waitForRequest((r) => r.url() === `${base}/login` && r.method() === 'POST');
  await page.click('#submit');
  const body = JSON.parse((await posted).postData() ?? '{}') as Record<string, unknown>;
  await page.waitForFunction("!document.getElementById('login-form')", undefined, { timeout: 60000 });
  return body;
}
