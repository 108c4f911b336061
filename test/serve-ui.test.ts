// process_lib's serve_ui / serve_file / bind_http_static_path through vfs and http-server, both
// generations: a package ships pkg/ui/{index.html, app.js, style.css, assets/logo.svg}; the
// storage component binds it the serve_ui way (ReadDir BFS, one cached Bind per file, index.html
// at the root); curl gets every file with its Content-Type, and headless Chromium loads the page,
// whose script fetches the process's /api path and writes the answer into the DOM.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import type { KinodeNode } from '../host/node.js';
import { bootNode, browserEnv, cleanupTempDirs, cmd, makePackage, tempDir } from './helpers.js';
import { storageWasm, type Reply } from './storage-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const curlOk = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
const HS = ['http_server:distro:sys', 'http-server:distro:sys'] as const;

interface CurlResult {
  status: number;
  contentType: string;
  body: string;
}

/** GET with curl (headers and body), or Node's fetch where curl is missing. */
async function get(url: string): Promise<CurlResult> {
  if (!curlOk) {
    const r = await fetch(url);
    return { status: r.status, contentType: r.headers.get('content-type') ?? '', body: await r.text() };
  }
  const out = await new Promise<string>((res, rej) =>
    execFile('curl', ['-s', '-i', '--max-time', '20', url], { maxBuffer: 1 << 24 }, (e, stdout) => (e ? rej(e) : res(stdout))),
  );
  const split = out.indexOf('\r\n\r\n');
  const head = out.slice(0, split).split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const ct = head.find((h) => h.toLowerCase().startsWith('content-type:'));
  return { status, contentType: ct ? ct.slice(ct.indexOf(':') + 1).trim() : '', body: out.slice(split + 4) };
}

const indexHtml = (pid: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>storage ui</title>
<link rel="stylesheet" href="/${pid}/style.css">
<script defer src="/${pid}/app.js"></script></head>
<body><h1>storage ui</h1><p id="out">loading</p><img src="/${pid}/assets/logo.svg" alt="logo"></body></html>
`;

const APP_JS = `// fetches the process's API path (same process id prefix as the page) and shows the answer
const base = '/' + location.pathname.split('/')[1];
fetch(base + '/api')
  .then((r) => r.json())
  .then((j) => { document.getElementById('out').textContent = 'api says ' + j.api + ' from ' + j.from; })
  .catch((e) => { document.getElementById('out').textContent = 'failed: ' + e; });
`;

const STYLE_CSS = '#out { color: rgb(1, 2, 3); }\n';
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n';

for (const gen of [0, 1] as const) {
  describe(`serve_ui, serve_file, bind_http_static_path (v${gen})`, () => {
    const pkgName = gen === 0 ? 'site-zero' : 'site';
    const pid = `ui:${pkgName}:test.os`;
    const addr = `fake.dev@${pid}`;
    let node: KinodeNode;
    let base: string;
    let browser: BrowserContext | undefined;
    let serveUi: { steps: Array<Reply & { bind?: string }>; error?: string };

    before(async () => {
      const dir = await makePackage({
        packageName: pkgName,
        publisher: 'test.os',
        witVersion: gen,
        processes: [{ name: 'ui', wasm: storageWasm(gen), requestCapabilities: ['vfs:distro:sys', HS[gen]], grantCapabilities: [HS[gen]] }],
        files: {
          'ui/index.html': indexHtml(pid),
          'ui/app.js': APP_JS,
          'ui/style.css': STYLE_CSS,
          'ui/assets/logo.svg': LOGO_SVG,
          'page.html': '<!doctype html><p>served by serve_file</p>\n',
        },
      });
      node = await bootNode({ home: tempDir('kh-ui-'), packages: [dir], password: 'pw' });
      base = `http://127.0.0.1:${node.port}`;
      await node.waitForPrint(new RegExp(`storage ready ${addr}`), 60000);
      serveUi = await cmd(node, addr, { op: 'serveUi', directory: 'ui', roots: ['/'], authenticated: false });
      const api = await cmd<Reply>(node, addr, { op: 'bindApi', path: '/api' });
      assert.deepEqual(api.reply, { Ok: null });
    });
    after(async () => {
      await browser?.close();
      await node?.stop();
      cleanupTempDirs();
    });

    it('serve_ui walks pkg/ui breadth-first and binds each file once, index.html at the root too', () => {
      assert.equal(serveUi.error, undefined, JSON.stringify(serveUi));
      const binds = serveUi.steps.filter((s) => s.bind !== undefined);
      assert.deepEqual(binds.map((b) => b.bind).sort(), ['/', '/app.js', '/assets/logo.svg', '/index.html', '/style.css']);
      for (const b of binds) assert.deepEqual(b.reply, { Ok: null }, b.bind);
      const readDirs = serveUi.steps.filter((s) => s.reply && typeof s.reply === 'object' && 'ReadDir' in s.reply);
      assert.equal(readDirs.length, 2); // pkg/ui and pkg/ui/assets
    });

    it('curl gets every file with the Content-Type guessed from its extension', async () => {
      const cases: Array<[string, string, string]> = [
        ['/', 'text/html', indexHtml(pid)],
        ['/index.html', 'text/html', indexHtml(pid)],
        ['/app.js', 'text/javascript', APP_JS],
        ['/style.css', 'text/css', STYLE_CSS],
        ['/assets/logo.svg', 'image/svg+xml', LOGO_SVG],
      ];
      for (const [path, type, body] of cases) {
        const r = await get(`${base}/${pid}${path}`);
        assert.equal(r.status, 200, path);
        assert.equal(r.contentType, type, path);
        assert.equal(r.body, body, path);
      }
      const api = await get(`${base}/${pid}/api`);
      assert.equal(api.status, 200);
      assert.equal(api.contentType, 'application/json');
      const j = JSON.parse(api.body) as { from: string; api: string; method: string; url: string };
      assert.deepEqual([j.from, j.api, j.method], [addr, 'storage', 'GET']);
      assert.ok(j.url.endsWith(`/${pid}/api`), j.url);
    });

    it('headless Chromium loads the page; its script runs, fetches /api and writes the answer into the DOM', { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium' }, async () => {
      browser = await chromium.launchPersistentContext(tempDir('kh-ui-chrome-'), {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        env: browserEnv(),
      });
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${base}/${pid}/`);
      // (page functions as strings: this file compiles without the DOM library)
      await page.waitForFunction("document.getElementById('out').textContent !== 'loading'", undefined, { timeout: 20000 });
      assert.equal(await page.textContent('#out'), `api says storage from ${addr}`);
      // the stylesheet was applied and the image loaded
      assert.equal(await page.evaluate("getComputedStyle(document.getElementById('out')).color"), 'rgb(1, 2, 3)');
      assert.equal(await page.evaluate("document.querySelector('img').naturalWidth"), 4);
      assert.deepEqual(failed, []);
    });

    it('serve_file reads /<pkg>/pkg/<file> and binds it; a missing file is NoBlob', async () => {
      const r = await cmd<{ steps: Array<Reply & { bind?: string }>; error?: string }>(node, addr, {
        op: 'serveFile',
        filePath: '/page.html',
        paths: ['/page', '/page-too'],
        authenticated: false,
      });
      assert.equal(r.error, undefined);
      assert.equal(r.steps[0]!.rawBody, '"Read"');
      for (const p of ['/page', '/page-too']) {
        const g = await get(`${base}/${pid}${p}`);
        assert.equal(g.status, 200);
        assert.equal(g.contentType, 'text/html');
        assert.equal(g.body, '<!doctype html><p>served by serve_file</p>\n');
      }
      const missing = await cmd<{ steps: Reply[]; error?: string }>(node, addr, { op: 'serveFile', filePath: 'nope.html', paths: ['/nope'] });
      assert.equal(missing.error, 'NoBlob');
      assert.deepEqual(missing.steps[0]!.reply, gen === 0 ? { Err: { IOError: { error: 'No such file or directory (os error 2)', path: '' } } } : { Err: { IOError: 'No such file or directory (os error 2)' } });
    });

    it('bind_http_static_path serves the given bytes with the given Content-Type', async () => {
      const r = await cmd<Reply>(node, addr, {
        op: 'bindHttpStaticPath',
        path: '/static.json',
        authenticated: false,
        contentType: 'application/json',
        data: '{"static":true}',
      });
      assert.deepEqual(r.reply, { Ok: null });
      const g = await get(`${base}/${pid}/static.json`);
      assert.equal(g.status, 200);
      assert.equal(g.contentType, 'application/json');
      assert.equal(g.body, '{"static":true}');
    });

    it('serve_ui of a directory that does not exist: the vfs error ends it (UnexpectedResponse)', async () => {
      const r = await cmd<{ steps: Reply[]; error?: string }>(node, addr, { op: 'serveUi', directory: 'missing', roots: ['/x'] });
      assert.equal(r.error, 'UnexpectedResponse');
      assert.deepEqual(r.steps[0]!.reply, gen === 0 ? { Err: { IOError: { error: 'No such file or directory (os error 2)', path: '' } } } : { Err: { IOError: 'No such file or directory (os error 2)' } });
    });
  });
}
