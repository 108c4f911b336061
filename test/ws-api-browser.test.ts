// The browser side of the WebSocket API, in headless Chromium: @kinode/client-api 0.1.0 (its
// default URL `ws://<host>/<process id>/`) against processes of both generations that bound a
// WebSocket at `/`, and the Kinode docs' own snippet — the token read from `document.cookie`
// with their getCookie, a WebSocket to `/`, a WsRegister — reaching a process and hearing back.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, cmd, inboxUntil, unb64 } from './helpers.js';
import { bootWebNode, chromiumOk, HS, launch, loginInPage, probePackage, type TestNode } from './homepage-clients.js';

// page functions run in the browser; this file is compiled without the DOM library
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const clientApi = readFileSync(createRequire(import.meta.url).resolve('@kinode/client-api'), 'utf8')
  .replace('export default class UqbarEncryptorApi', 'class UqbarEncryptorApi')
  .concat('\nwindow.KinodeClientApi = UqbarEncryptorApi;\n');

/** What the docs tell a page to do (getCookie copied from their example). */
const DOCS_SNIPPET = `
window.docsGot = [];
function getCookie(name) {
  const cookies = document.cookie.split(';');
  for (let i = 0; i < cookies.length; i++) {
    const cookie = cookies[i].trim();
    if (cookie.startsWith(name)) {
      return cookie.substring(name.length + 1);
    }
  }
}
const websocket = new WebSocket('ws://' + location.host + '/');
websocket.onopen = () => websocket.send(JSON.stringify({
  auth_token: getCookie('kinode-auth_' + window.our.node),
  target_process: 'probe:wsb-one:test.os',
  encrypted: false,
}));
websocket.onmessage = (ev) => window.docsGot.push(ev.data);
window.docsSocket = websocket;
`;

describe('WebSocket API in Chromium', { skip: !chromiumOk && 'chromium is not installed' }, () => {
  let t: TestNode;
  let ctx: BrowserContext;
  let page: Page;
  before(async () => {
    t = await bootWebNode([probePackage(0, 'wsb-zero'), probePackage(1, 'wsb-one')]);
    for (const gen of [0, 1] as const) {
      const bind = gen === 0 ? { path: '/', authenticated: true, encrypted: false, extension: false } : { path: '/', authenticated: true, extension: false };
      const r = await cmd<{ ok?: { body: string } }>(t.node, `fake.dev@probe:wsb-${gen === 0 ? 'zero' : 'one'}:test.os`, { op: 'await', target: `fake.dev@${HS[gen]}`, body: JSON.stringify({ WebSocketBind: bind }), expects: 10 });
      assert.equal(r.ok?.body, '{"Ok":null}');
    }
    ctx = await launch();
    page = await ctx.newPage();
    await loginInPage(page, t.base);
    await page.addScriptTag({ url: '/our.js' });
    await page.addScriptTag({ content: clientApi });
  });
  after(async () => {
    await ctx?.close();
    await t?.node.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pid = `probe:wsb-${gen === 0 ? 'zero' : 'one'}:test.os`;
    it(`@kinode/client-api reaches a v${gen} process bound at / and hears its pushes`, async () => {
      await page.evaluate((processId: string) => {
        window.got = [];
        window.api = new window.KinodeClientApi({
          nodeId: window.our.node,
          processId,
          onOpen: (_e: unknown, api: { send: (m: { data: unknown }) => void }) => api.send({ data: { hello: 'from the browser' } }),
          onMessage: (data: unknown) => window.got.push(data),
        });
      }, pid);
      const inbox = await inboxUntil(t.node, `fake.dev@${pid}`, (all) => all.some((e) => e.body.includes('WebSocketPush')), 60000);
      const open = JSON.parse(inbox.find((e) => e.body.includes('WebSocketOpen'))!.body) as { WebSocketOpen: { path: string; channel_id: number } };
      assert.equal(open.WebSocketOpen.path, '/');
      const push = inbox.find((e) => e.body.includes('WebSocketPush'))!;
      assert.deepEqual(JSON.parse(push.body), { WebSocketPush: { channel_id: open.WebSocketOpen.channel_id, message_type: 'Binary' } });
      assert.deepEqual(JSON.parse(unb64(push.blob!.b64)), { hello: 'from the browser' });
      await cmd(t.node, `fake.dev@${pid}`, { op: 'send', target: `fake.dev@${HS[gen]}`, body: JSON.stringify({ WebSocketPush: { channel_id: open.WebSocketOpen.channel_id, message_type: 'Text' } }), blob: { text: `hello browser from v${gen}` } });
      await page.waitForFunction(() => window.got.length > 0, undefined, { timeout: 30000 });
      assert.deepEqual(await page.evaluate(() => window.got), [`hello browser from v${gen}`]);
      await page.evaluate(() => window.api._ws.close());
      await inboxUntil(t.node, `fake.dev@${pid}`, (all) => all.some((e) => e.body.includes('WebSocketClose')), 30000);
    });
  }

  it("the docs' snippet: token from document.cookie, WsRegister on /, pushes both ways", async () => {
    await page.addScriptTag({ content: DOCS_SNIPPET });
    const pid = 'probe:wsb-one:test.os';
    const inbox = await inboxUntil(t.node, `fake.dev@${pid}`, (all) => all.some((e) => e.body.includes('WebSocketOpen')), 60000);
    const open = JSON.parse(inbox.find((e) => e.body.includes('WebSocketOpen'))!.body) as { WebSocketOpen: { path: string; channel_id: number } };
    assert.equal(open.WebSocketOpen.path, '/');
    await cmd(t.node, `fake.dev@${pid}`, { op: 'send', target: `fake.dev@${HS[1]}`, body: JSON.stringify({ WebSocketPush: { channel_id: open.WebSocketOpen.channel_id, message_type: 'Text' } }), blob: { text: 'registered!' } });
    await page.waitForFunction(() => window.docsGot.length > 0, undefined, { timeout: 30000 });
    assert.deepEqual(await page.evaluate(() => window.docsGot), ['registered!']);
    await page.evaluate(() => window.docsSocket.send('after register'));
    const later = await inboxUntil(t.node, `fake.dev@${pid}`, (all) => all.some((e) => e.body.includes('WebSocketPush')), 30000);
    assert.equal(unb64(later.find((e) => e.body.includes('WebSocketPush'))!.blob!.b64), 'after register');
  });
});
