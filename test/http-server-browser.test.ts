// The cookie flow in a real browser: headless Chromium (Debian's /usr/bin/chromium), driven
// through the DevTools protocol with `ws`. A node without --password prints a generated one;
// the browser gets the login page for a private path, logs in with that password, reloads and
// sees the process's answer; the same for a secure subdomain (`<sub>.localhost`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { KinodeNode } from '../host/node.js';
import { createHttpServerModule } from '../host/modules/http-server/index.js';
import { bootNode, browserEnv, cleanupTempDirs, makePackage, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const serversWasm = fileURLToPath(new URL('../../components/build/servers-v1.wasm', import.meta.url));
const PID = 'echo:echo:template.os';

class Cdp {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(method: string, params: unknown) => void> = [];

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
      if (m.id !== undefined) {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.error) w?.reject(new Error(m.error.message));
        else w?.resolve(m.result);
      } else if (m.method) {
        for (const l of this.listeners) l(m.method, m.params);
      }
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Cdp(ws);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.seq;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  event(name: string, timeoutMs = 20000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${name} within ${timeoutMs} ms`)), timeoutMs);
      const l = (method: string, params: unknown) => {
        if (method !== name) return;
        clearTimeout(t);
        this.listeners.splice(this.listeners.indexOf(l), 1);
        resolve(params);
      };
      this.listeners.push(l);
    });
  }

  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value: T }; exceptionDetails?: unknown }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  }

  /** Navigate (or run `action`) and wait for the next load event. */
  async load(action: () => Promise<unknown>): Promise<void> {
    const loaded = this.event('Page.loadEventFired');
    await action();
    await loaded;
  }

  /** Poll until `expression` is truthy in the page. */
  async until(expression: string, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await this.eval<boolean>(expression)) return;
      } catch {
        // the page is navigating
      }
      if (Date.now() > deadline) throw new Error(`page never satisfied ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.ws.close();
  }
}

async function launchChromium(): Promise<{ proc: ChildProcess; cdp: Cdp }> {
  const proc = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
      `--user-data-dir=${tempDir('kh-chromium-')}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: browserEnv() },
  );
  const browserUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 30000);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => reject(new Error(`chromium exited (${code}):\n${err}`)));
  });
  const port = new URL(browserUrl).port;
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
  const page = targets.find((t) => t.type === 'page');
  assert.ok(page, 'a page target');
  const cdp = await Cdp.connect(page.webSocketDebuggerUrl);
  await cdp.send('Page.enable');
  await cdp.send('Runtime.enable');
  await cdp.send('Network.enable');
  return { proc, cdp };
}

describe('login in headless Chromium', { skip: !existsSync(CHROMIUM) && 'chromium is not installed' }, () => {
  let node: KinodeNode;
  let server: Server;
  let port = 0;
  let password = '';
  const lines: string[] = [];
  let browser: { proc: ChildProcess; cdp: Cdp };

  before(async () => {
    const home = tempDir('kh-hsb-');
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    // no password given: the module makes one and prints it once
    const mod = createHttpServerModule({ server, home, nodeName: 'fake.dev', password: undefined, requestTimeoutMs: 5000, maxBodyBytes: 1 << 20, print: (l) => lines.push(l) });
    const pkg = await makePackage({
      packageName: 'echo',
      publisher: 'template.os',
      witVersion: 1,
      processes: [{ name: 'echo', wasm: serversWasm, requestCapabilities: ['http-server:distro:sys'], grantCapabilities: ['http-server:distro:sys'] }],
    });
    node = await bootNode({ home, packages: [pkg], extraModules: [mod], verbosity: 0 });
    await node.waitForPrint(/^echo:template\.os: echo bound$/, 60000);
    const printed = lines.filter((l) => l.startsWith('login password: '));
    assert.equal(printed.length, 1);
    password = printed[0]!.slice('login password: '.length);
    assert.equal(password, mod.password);
    browser = await launchChromium();
  });

  after(async () => {
    browser?.cdp.close();
    const proc = browser?.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      // its profile directory is removed below: wait until the browser has stopped writing it
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const late = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(late);
    }
    await node?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    cleanupTempDirs();
  });

  const login = async (cdp: Cdp, pw: string) => {
    await cdp.eval(`document.getElementById('password').value = ${JSON.stringify(pw)}; document.getElementById('login-form').requestSubmit(); true`);
  };

  it('a private page shows the login form; a wrong password is refused; the right one sets the cookie', async () => {
    const { cdp } = browser;
    const url = `http://127.0.0.1:${port}/${PID}/private`;
    await cdp.load(() => cdp.send('Page.navigate', { url }));
    assert.equal(await cdp.eval(`!!document.getElementById('login-form')`), true);
    await login(cdp, 'wrong password');
    await cdp.until(`document.getElementById('error').textContent === 'Incorrect password'`);
    await cdp.load(() => login(cdp, password));
    await cdp.until(`document.body && document.body.innerText.includes('bound_path')`);
    const page = JSON.parse(await cdp.eval<string>('document.body.innerText')) as { http: { bound_path: string; headers: Record<string, string> } };
    assert.equal(page.http.bound_path, `/${PID}/private`);
    assert.match(page.http.headers.cookie ?? '', /^kinode-auth_fake\.dev=/);
    const { cookies } = await cdp.send<{ cookies: Array<{ name: string; httpOnly: boolean; path: string }> }>('Network.getCookies', { urls: [url] });
    const c = cookies.find((x) => x.name === 'kinode-auth_fake.dev');
    assert.ok(c, JSON.stringify(cookies));
    assert.equal(c.httpOnly, false); // the runtime's attribute-less cookie: page scripts read it (WebSocket API)
    assert.equal(c.path, '/');
  });

  it('a secure subdomain app redirects to <sub>.localhost and needs its own login', async () => {
    const { cdp } = browser;
    await cdp.load(() => cdp.send('Page.navigate', { url: `http://localhost:${port}/${PID}/secure` }));
    // the 307 took the browser to the app's subdomain, where the node cookie is not enough
    assert.equal(await cdp.eval('location.host'), `echo-template-os.localhost:${port}`);
    assert.equal(await cdp.eval(`!!document.getElementById('login-form')`), true);
    await cdp.load(() => login(cdp, password));
    await cdp.until(`document.body && document.body.innerText.includes('bound_path')`);
    const page = JSON.parse(await cdp.eval<string>('document.body.innerText')) as { http: { bound_path: string; url: string } };
    assert.equal(page.http.bound_path, `/${PID}/secure`);
    assert.equal(page.http.url, `http://echo-template-os.localhost/${PID}/secure`);
  });
});
