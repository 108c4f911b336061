// The start page in headless Chromium (playwright-core driving Debian's /usr/bin/chromium): the
// browser meets the login page at `/`, the page hashes the password with Argon2id as Kinode
// 1.0's does and posts `password_hash`, the cookie is readable from `document.cookie`, and the
// start page shows the installed packages (homepage entries with icon and link, else bound
// paths), a widget, and the live view (processes table, bound paths, recent messages) fed over
// the WebSocket API. A screenshot is taken (KH_SCREENSHOT=<path> keeps it, e.g. for the README).
// The bundled demo's card leads to its UI, served from its package by serve_ui, which shows the
// node name and the process's /api answer (KH_DEMO_SCREENSHOT=<path> keeps a screenshot of it).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { cleanupTempDirs, cmd, tempDir } from './helpers.js';
import { argon2PasswordHash } from '../host/modules/http-server/auth.js';
import { bootWebNode, chromiumOk, HOMEPAGE, launch, loginInPage, PASSWORD, probePackage, type TestNode } from './homepage-clients.js';

// page functions run in the browser; this file is compiled without the DOM library
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const demoDir = fileURLToPath(new URL('../../components/demo', import.meta.url));
const ICON = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#2a6cff"/><path d="M16 20h32v6H16zm0 10h32v6H16zm0 10h20v6H16z" fill="#fff"/></svg>',
).toString('base64')}`;
const WIDGET = '<html><body style="margin:0;font:600 15px system-ui;display:flex;align-items:center;justify-content:center;height:200px;background:#fff7ed;color:#9a3412">3 unread notes</body></html>';

describe('start page in Chromium', { skip: !chromiumOk && 'chromium is not installed' }, () => {
  let t: TestNode;
  let ctx: BrowserContext;
  before(async () => {
    t = await bootWebNode([
      probePackage(0, 'notes', {}, [{ name: 'trap-init', wasm: 'probe-v0' }]),
      probePackage(1, 'chat', {}, [{ name: 'restart-loop', wasm: 'probe-v1', onExit: 'Restart' }]),
    ]);
    await t.node.install(demoDir);
    await t.node.waitForPrint(/demo:template\.os: hello from the demo package/, 60000);
    // the apps add themselves, as process_lib's add_to_homepage does
    await cmd(t.node, 'fake.dev@probe:notes:test.os', { op: 'send', target: `fake.dev@${HOMEPAGE}`, body: JSON.stringify({ Add: { label: 'Notes', icon: ICON, path: null, widget: WIDGET } }) });
    await cmd(t.node, 'fake.dev@probe:chat:test.os', { op: 'send', target: 'fake.dev@http-server:distro:sys', body: JSON.stringify({ Bind: { path: '/', authenticated: true, local_only: false, cache: false } }) });
    await cmd(t.node, 'fake.dev@probe:chat:test.os', { op: 'send', target: 'fake.dev@http-server:distro:sys', body: JSON.stringify({ WebSocketBind: { path: '/updates', authenticated: true, extension: false } }) });
    await cmd(t.node, 'fake.dev@probe:chat:test.os', { op: 'send', target: `fake.dev@${HOMEPAGE}`, body: JSON.stringify({ Add: { label: 'Chat', icon: null, path: '/', widget: null } }) });
    ctx = await launch();
  });
  after(async () => {
    await ctx?.close();
    await t?.node.stop();
    cleanupTempDirs();
  });

  it('logs in like Kinode 1.0 and shows apps, widget and the live process table', async () => {
    const page = await ctx.newPage();
    const posted = await loginInPage(page, t.base);
    assert.deepEqual(posted, { password_hash: await argon2PasswordHash(PASSWORD, 'fake.dev'), subdomain: '' });
    assert.match(await page.evaluate(() => document.cookie), /^kinode-auth_fake\.dev=[\w-]+\.[\w-]+\.[\w-]+$/);

    await page.waitForSelector('body[data-live="yes"]', { timeout: 60000 });
    const apps = await page.$$eval('#apps .app', (els) => els.map((e) => ({ pkg: e.getAttribute('data-package'), label: e.querySelector('.label')!.textContent, href: e.getAttribute('href'), img: !!e.querySelector('img') })));
    assert.deepEqual(apps.find((a) => a.pkg === 'notes:test.os'), { pkg: 'notes:test.os', label: 'Notes', href: null, img: true });
    assert.deepEqual(apps.find((a) => a.pkg === 'chat:test.os'), { pkg: 'chat:test.os', label: 'Chat', href: '/probe:chat:test.os/', img: false });
    // the demo adds itself with path "/": the link is /<process id>/
    assert.deepEqual(apps.find((a) => a.pkg === 'demo:template.os'), { pkg: 'demo:template.os', label: 'Demo', href: '/demo:demo:template.os/', img: true });
    const widgets = await page.$$eval('#widgets iframe', (els) => els.length);
    const texts: string[] = [];
    for (let i = 0; i < widgets; i++) texts.push((await page.frameLocator('#widgets iframe').nth(i).locator('body').textContent()) ?? '');
    assert.ok(texts.includes('3 unread notes'), JSON.stringify(texts));
    assert.ok(texts.some((x) => x.startsWith('Demo app running')), JSON.stringify(texts));

    const procs = await page.$$eval('#processes tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    const row = (pid: string) => procs.find((r) => r[0] === pid);
    assert.deepEqual(row('probe:notes:test.os')!.slice(0, 5), ['probe:notes:test.os', 'v0', 'running', '0', 'None']);
    assert.deepEqual(row('demo:demo:template.os')!.slice(0, 5), ['demo:demo:template.os', 'v1', 'running', '0', 'Restart']);
    // a process that trapped with on-exit None is gone from the table but listed as exited
    assert.deepEqual(procs.filter((r) => r[0] === 'trap-init:notes:test.os').map((r) => r[2]), ['exited']);
    // the restart loop's count climbs on the live feed
    await page.waitForFunction(() => [...document.querySelectorAll('#processes tbody tr')].some((r) => r.children[0]!.textContent === 'restart-loop:chat:test.os' && Number(r.children[3]!.textContent) >= 1), undefined, { timeout: 60000 });
    const bound = await page.$$eval('#bindings tbody tr', (rows) => rows.map((r) => r.children[1]!.textContent));
    assert.ok(bound.includes('/demo:demo:template.os/api'), JSON.stringify(bound));
    assert.ok(bound.includes(`ws://127.0.0.1:${t.port}/probe:chat:test.os/updates`));

    // messages show up as they pass
    await cmd(t.node, 'fake.dev@probe:chat:test.os', { op: 'send', target: 'fake.dev@probe:chat:test.os', body: 'note to self' });
    await page.waitForFunction(() => [...document.querySelectorAll('#messages tbody tr')].some((r) => /probe:chat:test\.os→probe:chat:test\.os/.test(r.children[1]?.textContent ?? '')), undefined, { timeout: 30000 });

    const shot = process.env.KH_SCREENSHOT ?? join(tempDir('kh-shot-'), 'start-page.png');
    await page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 10_000);
    assert.deepEqual([...readFileSync(shot).subarray(1, 4)], [...Buffer.from('PNG')]);
    await page.close();
  });

  it('follows the Demo card to the UI served from the demo package, which shows the node and its /api answer', async () => {
    const page = await ctx.newPage(); // same context: the login cookie is already set
    await page.goto(`${t.base}/`);
    await page.waitForSelector('#apps .app[data-package="demo:template.os"]', { timeout: 60000 });
    await page.click('#apps .app[data-package="demo:template.os"]');
    await page.waitForURL(`${t.base}/demo:demo:template.os/`);
    await page.waitForSelector('body[data-api="ok"]', { timeout: 60000 });
    assert.equal(await page.title(), 'Demo · kinode-host');
    assert.equal(await page.textContent('#node'), 'fake.dev');
    assert.equal(await page.textContent('#status'), '200 OK');
    assert.deepEqual(JSON.parse((await page.textContent('#api'))!), { from: 'fake.dev@demo:demo:template.os', api: 'storage', method: 'GET', url: 'http://127.0.0.1/demo:demo:template.os/api' });
    // the stylesheet from pkg/ui applied (teal accent on the button)
    assert.equal(await page.$eval('#again', (b) => (globalThis as any).getComputedStyle(b).backgroundColor), 'rgb(15, 118, 110)'); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (process.env.KH_DEMO_SCREENSHOT) await page.screenshot({ path: process.env.KH_DEMO_SCREENSHOT });
    await page.close();
  });
});
