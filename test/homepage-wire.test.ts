// The homepage's wire shapes without a node: requests as the runtime's serde reads them (1.0-only
// variants refused from 0.9 senders), app records per era, the /order and /favorite bodies,
// the WsRegister frame, and the start page's package view (entries win over bound paths).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appJson, parseFavoriteBody, parseHomepageRequest, parseOrderBody, type HomepageApp } from '../host/wire/homepage.js';
import { parseWsRegister } from '../host/wire/ws-register.js';
import { buildPackages, Ring } from '../host/modules/homepage/live.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('homepage wire', () => {
  it('parses Add (optional fields may be missing or null), Remove, SetStylesheet; RemoveOther/GetApps only from 1.0', () => {
    assert.deepEqual(parseHomepageRequest(enc('{"Add":{"label":"Chat","icon":null,"path":"/","widget":null}}'), 1), { tag: 'Add', label: 'Chat', icon: undefined, path: '/', widget: undefined });
    assert.deepEqual(parseHomepageRequest(enc('{"Add":{"label":"X"}}'), 0), { tag: 'Add', label: 'X', icon: undefined, path: undefined, widget: undefined });
    assert.deepEqual(parseHomepageRequest(enc('"Remove"'), 0), { tag: 'Remove' });
    assert.deepEqual(parseHomepageRequest(enc('{"SetStylesheet":"a{}"}'), 0), { tag: 'SetStylesheet', css: 'a{}' });
    assert.deepEqual(parseHomepageRequest(enc('{"RemoveOther":"a:b:c"}'), 1), { tag: 'RemoveOther', id: 'a:b:c' });
    assert.deepEqual(parseHomepageRequest(enc('"GetApps"'), 1), { tag: 'GetApps' });
    for (const bad of ['{"RemoveOther":"a:b:c"}', '"GetApps"']) assert.throws(() => parseHomepageRequest(enc(bad), 0));
    for (const bad of ['{"Add":{}}', '{"Add":{"label":3}}', '"Nope"', 'not json', '{"SetStylesheet":null}']) assert.throws(() => parseHomepageRequest(enc(bad), 1), bad);
  });

  it('renders app records in each era\'s field names and order', () => {
    const app: HomepageApp = { id: 'p:k:pub', process: 'p', packageName: 'k', publisher: 'pub', path: '/p:k:pub/', label: 'L', icon: undefined, widget: '<b>w</b>', order: 2, favorite: true };
    assert.equal(JSON.stringify(appJson(app, 0)), '{"id":"p:k:pub","process":"p","package":"k","publisher":"pub","path":"/p:k:pub/","label":"L","base64_icon":null,"widget":"<b>w</b>","order":2,"favorite":true}');
    assert.equal(JSON.stringify(appJson(app, 1)), '{"id":"p:k:pub","process":"p","package_name":"k","publisher":"pub","path":"/p:k:pub/","label":"L","base64_icon":null,"widget":"<b>w</b>","order":2,"favorite":true}');
  });

  it('/order and /favorite bodies', () => {
    assert.deepEqual(parseOrderBody(enc('[["a:b:c",3],["d:e:f",0]]')), [['a:b:c', 3], ['d:e:f', 0]]);
    assert.deepEqual(parseFavoriteBody(enc('["a:b:c",true]')), ['a:b:c', true]);
    for (const bad of ['[["a",-1]]', '[["a",1.5]]', '{"a":1}', '[["a"]]']) assert.throws(() => parseOrderBody(enc(bad)), bad);
    for (const bad of ['["a"]', '["a",1]', '[1,true]']) assert.throws(() => parseFavoriteBody(enc(bad)), bad);
  });

  it('WsRegister: 0.9 (with encrypted) and 1.0 (without) shapes', () => {
    assert.deepEqual(parseWsRegister(enc('{"auth_token":"t","target_process":"a:b:c","encrypted":false}')), { authToken: 't', targetProcess: 'a:b:c', encrypted: false });
    assert.deepEqual(parseWsRegister(enc('{"auth_token":"t","target_process":"a:b:c"}')), { authToken: 't', targetProcess: 'a:b:c', encrypted: false });
    for (const bad of ['{"target_process":"a:b:c"}', '{"auth_token":1,"target_process":"a:b:c"}', '"x"', '']) assert.throws(() => parseWsRegister(enc(bad)), bad);
  });
});

describe('start page data', () => {
  it('packages: a homepage entry names and links the package, else its shortest plain bound path', () => {
    const proc = (pid: string) => ({ pid, generation: 1 as const, running: true, restarts: 0, public: false, onExit: 'None' as const });
    const b = (path: string, owner: string) => ({ kind: 'http' as const, path, owner, authenticated: true, cached: false, secureSubdomain: undefined });
    const pkgs = buildPackages(
      [proc('a:one:pub'), proc('b:one:pub'), proc('x:two:pub'), proc('y:three:pub')],
      [{ id: 'b:one:pub', process: 'b', packageName: 'one', publisher: 'pub', path: '/b:one:pub/', label: 'One', icon: 'data:image/png;base64,AA', widget: undefined, order: 0, favorite: false }],
      [b('/x:two:pub/api/:id', 'x:two:pub'), b('/x:two:pub/ui', 'x:two:pub'), b('/x:two:pub', 'x:two:pub'), b('/our', 'homepage:homepage:sys')],
    );
    assert.deepEqual(pkgs.map((p) => [p.id, p.label, p.link, p.links]), [
      ['one:pub', 'One', '/b:one:pub/', []],
      ['three:pub', 'three', null, []],
      ['two:pub', 'two', '/x:two:pub', ['/x:two:pub', '/x:two:pub/ui']],
    ]);
    assert.deepEqual(pkgs[0]!.processes, ['a:one:pub', 'b:one:pub']);
  });

  it('the ring keeps the newest items in order', () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    assert.deepEqual(r.recent(10), [2, 3, 4]);
    assert.deepEqual(r.recent(2), [3, 4]);
  });
});
