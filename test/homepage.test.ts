// homepage:homepage:sys through a real node: its routes with curl (public static files exactly
// as the runtime serves them; the private ones behind the login cookie), and its requests from
// real processes of both generations (Add/Remove/SetStylesheet; 1.0's RemoveOther and GetApps),
// with the runtime's capability rules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupTempDirs, cmd, until } from './helpers.js';
import type { HomepageModule } from '../host/modules/homepage/index.js';
import { bootWebNode, curl, curlOk, HOMEPAGE, login, probePackage, type TestNode } from './homepage-clients.js';

const ICON = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=';
const v0 = 'fake.dev@probe:hp-zero:test.os';
const v1 = 'fake.dev@probe:hp-one:test.os';
const v1NoCap = 'fake.dev@nocap:hp-one:test.os';
const v1Styler = 'fake.dev@styler:hp-one:test.os';

describe('homepage', { skip: !curlOk && 'curl is not installed' }, () => {
  let t: TestNode;
  let cookie: string;
  let hp: HomepageModule;
  const send = (from: string, body: unknown, caps: unknown[] = []) => cmd(t.node, from, { op: 'send', target: `fake.dev@${HOMEPAGE}`, body: JSON.stringify(body), caps });
  const appsJson = async () => JSON.parse((await curl(['-H', `Cookie: ${cookie}`, `${t.base}/apps`])).body) as Array<Record<string, unknown>>;

  before(async () => {
    t = await bootWebNode([
      probePackage(0, 'hp-zero'),
      probePackage(1, 'hp-one', {}, [
        { name: 'nocap', wasm: 'probe-v1' },
        { name: 'styler', wasm: 'probe-v1', requestCapabilities: [HOMEPAGE, { process: HOMEPAGE, params: 'SetStylesheet' }, { process: HOMEPAGE, params: 'RemoveOther' }] },
      ]),
    ]);
    cookie = await login(t);
    hp = t.node.module<HomepageModule>(HOMEPAGE)!;
  });
  after(async () => {
    await t?.node.stop();
    cleanupTempDirs();
  });

  it('serves /our.js, /our, /amionline exactly as the runtime, without login', async () => {
    const js = await curl([`${t.base}/our.js`]);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'application/javascript');
    assert.equal(js.body, "window.our = {}; window.our.node = 'fake.dev';");
    const our = await curl([`${t.base}/our`]);
    assert.deepEqual([our.status, our.headers.get('content-type'), our.body], [200, 'text/html', 'fake.dev']);
    const online = await curl([`${t.base}/amionline`]);
    assert.deepEqual([online.status, online.headers.get('content-type'), online.body], [200, 'text/html', 'yes']);
    for (const [path, mime] of [['/kinode.css', 'text/css'], ['/kinode.svg', 'image/svg+xml'], ['/bird-orange.svg', 'image/svg+xml'], ['/bird-plain.svg', 'image/svg+xml']]) {
      const r = await curl([`${t.base}${path}`]);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), mime, path);
      assert.ok(r.body.length > 50, path);
    }
  });

  it('/, /apps, /version, /favorite, /order need the login cookie', async () => {
    for (const path of ['/', '/apps', '/version']) {
      const r = await curl([`${t.base}${path}`]);
      assert.equal(r.status, 200, path);
      assert.match(r.body, /id="login-form"/, path);
    }
    const version = await curl(['-H', `Cookie: ${cookie}`, `${t.base}/version`]);
    assert.deepEqual([version.status, version.headers.get('content-type'), version.body], [200, 'text/plain', '1.0.0']);
    const page = await curl(['-H', `Cookie: ${cookie}`, `${t.base}/`]);
    assert.equal(page.status, 200);
    assert.match(page.body, /<table id="processes">/);
    assert.match(page.body, /probe:hp-one:test\.os/); // in the embedded snapshot
    // each running process shows its memory: wasm linear memory + JS heap, as its worker reported it
    const snap = JSON.parse(/<script id="snapshot" type="application\/json">(.*?)<\/script>/s.exec(page.body)![1]!) as {
      processes: Array<{ pid: string; running: boolean; memory: { wasm: number; heap: number } | null }>;
    };
    const probe = snap.processes.find((p) => p.pid === 'probe:hp-one:test.os')!;
    assert.ok(probe.memory && probe.memory.wasm >= 64 * 1024 && probe.memory.heap > 0, JSON.stringify(probe));
    assert.equal((await curl(['-H', `Cookie: ${cookie}`, `${t.base}/favorite`])).status, 405);
    assert.equal((await curl(['-H', `Cookie: ${cookie}`, '-X', 'POST', '--data-binary', 'nope', `${t.base}/order`])).status, 400);
    assert.equal((await curl(['-H', `Cookie: ${cookie}`, `${t.base}/nothing-here`])).status, 404);
  });

  it('Add from both generations: /apps shows the runtime record (path under the process id), re-add replaces', async () => {
    await send(v0, { Add: { label: 'Zero', icon: null, path: '/', widget: null } });
    await send(v1, { Add: { label: 'One', icon: ICON, path: 'ui/index.html', widget: '<p>hello widget</p>' } });
    await until(() => hp.apps.list().length === 2, 'two apps');
    const apps = await appsJson();
    assert.deepEqual(apps[0], {
      id: 'probe:hp-zero:test.os', process: 'probe', package: 'hp-zero', package_name: 'hp-zero', publisher: 'test.os',
      path: '/probe:hp-zero:test.os/', label: 'Zero', base64_icon: null, widget: null, order: 0, favorite: false,
    });
    assert.deepEqual(Object.keys(apps[1]!), ['id', 'process', 'package', 'package_name', 'publisher', 'path', 'label', 'base64_icon', 'widget', 'order', 'favorite']);
    assert.equal(apps[1]!.path, '/probe:hp-one:test.os/ui/index.html');
    assert.equal(apps[1]!.base64_icon, ICON);
    assert.equal(apps[1]!.order, 1);
    await send(v0, { Add: { label: 'Zero again', path: null } }); // optional fields may be missing
    await until(() => hp.apps.get('probe:hp-zero:test.os')?.label === 'Zero again', 're-add');
    assert.equal(hp.apps.get('probe:hp-zero:test.os')!.path, undefined);
  });

  it('GetApps (1.0) answers with package_name records; 0.9 has no GetApps', async () => {
    const r = await cmd<{ ok?: { body: string } }>(t.node, v1, { op: 'await', target: `fake.dev@${HOMEPAGE}`, body: '"GetApps"', expects: 5 });
    const got = JSON.parse(r.ok!.body) as { GetApps: Array<Record<string, unknown>> };
    assert.ok(Array.isArray(got.GetApps));
    const one = got.GetApps.find((a) => a.id === 'probe:hp-one:test.os')!;
    assert.equal(one.package_name, 'hp-one');
    assert.ok(!('package' in one));
    const r0 = await cmd<{ err?: { errorKind: string } }>(t.node, v0, { op: 'await', target: `fake.dev@${HOMEPAGE}`, body: '"GetApps"', expects: 1 });
    assert.equal(r0.err?.errorKind, 'timeout'); // ignored, as a 0.9 homepage cannot parse it
  });

  it('a process without the homepage capability is refused by the kernel', async () => {
    await send(v1NoCap, { Add: { label: 'Sneaky', path: '/' } });
    await send(v1, { Add: { label: 'One', icon: ICON, path: 'ui/index.html', widget: '<p>hello widget</p>' } }); // a marker behind it
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hp.apps.get('nocap:hp-one:test.os'), undefined);
    assert.ok(t.lines.some((l) => /nocap:hp-one:test\.os doesn't have capability to message process homepage:homepage:sys/.test(l)));
  });

  it('SetStylesheet: 1.0 needs the "SetStylesheet" capability attached; 0.9 only from settings:settings:sys', async () => {
    const before = (await curl([`${t.base}/kinode.css`])).body;
    await send(v1, { SetStylesheet: 'body { color: red; }' }); // no capability attached
    await send(v0, { SetStylesheet: 'body { color: green; }' }); // not settings:settings:sys
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await curl([`${t.base}/kinode.css`])).body, before);
    await send(v1Styler, { SetStylesheet: 'body { color: blue; }' }, [{ issuer: `fake.dev@${HOMEPAGE}`, params: '"SetStylesheet"' }]);
    await t.node.waitForPrint(/homepage: updated kinode\.css!/);
    const css = await curl([`${t.base}/kinode.css`]);
    assert.deepEqual([css.headers.get('content-type'), css.body], ['text/css', 'body { color: blue; }']);
  });

  it('/order persists and /favorite toggles; Remove and RemoveOther (with its capability) take entries away', async () => {
    const post = (path: string, body: unknown) => curl(['-H', `Cookie: ${cookie}`, '-X', 'POST', '--data-binary', JSON.stringify(body), `${t.base}${path}`]);
    assert.equal((await post('/order', [['probe:hp-one:test.os', 0], ['probe:hp-zero:test.os', 1]])).status, 200);
    assert.equal((await post('/favorite', ['probe:hp-one:test.os', true])).status, 200);
    const apps = await appsJson();
    assert.deepEqual(apps.map((a) => [a.id, a.order, a.favorite]), [['probe:hp-one:test.os', 0, true], ['probe:hp-zero:test.os', 1, false]]);

    await send(v0, 'Remove');
    await until(() => hp.apps.get('probe:hp-zero:test.os') === undefined, 'Remove');
    await send(v1, { RemoveOther: 'probe:hp-one:test.os' }); // no capability: ignored
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(hp.apps.get('probe:hp-one:test.os'));
    await send(v1Styler, { RemoveOther: 'probe:hp-one:test.os' }, [{ issuer: `fake.dev@${HOMEPAGE}`, params: '"RemoveOther"' }]);
    await until(() => hp.apps.get('probe:hp-one:test.os') === undefined, 'RemoveOther');
    assert.deepEqual(await appsJson(), []);
  });
});
