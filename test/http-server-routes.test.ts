// http-server units: route matching (route-recognizer rules), path formatting, cookies and JWTs,
// request details, and the action handler's replies in both generations (fake kernel context).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { SignJWT } from 'jose';
import { Bindings, formatPathWithProcess, normalizePath, RouteTable, secureSubdomain } from '../host/modules/http-server/routes.js';
import { Auth, cookieName, findCookie, loadJwtSecret } from '../host/modules/http-server/auth.js';
import { hostnameOf, isLoopbackPeer, peerSocketAddr, queryParams, serializeHeaders, splitTarget } from '../host/modules/http-server/request-info.js';
import { ActionHandler } from '../host/modules/http-server/actions.js';
import { WsServer } from '../host/modules/http-server/websockets.js';
import type { ModuleContext, ModuleSend } from '../host/kernel/module.js';
import type { Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../host/types.js';

const pid = (s: string): ProcessId => {
  const [processName, packageName, publisherNode] = s.split(':') as [string, string, string];
  return { processName, packageName, publisherNode };
};

describe('route table', () => {
  it('static beats :param beats *glob, captures by name', () => {
    const t = new RouteTable<string>();
    t.add('/a:b:c/*rest', 'glob');
    t.add('/a:b:c/item/:id', 'param');
    t.add('/a:b:c/item/special', 'static');
    t.add('/a:b:c', 'root');
    assert.equal(t.recognize('/a:b:c/item/special')?.value, 'static');
    assert.deepEqual(t.recognize('/a:b:c/item/42'), { value: 'param', pattern: '/a:b:c/item/:id', params: [['id', '42']] });
    assert.deepEqual(t.recognize('/a:b:c/item/42/more')?.params, [['rest', 'item/42/more']]);
    assert.equal(t.recognize('/a:b:c')?.value, 'root');
    assert.equal(t.recognize('a:b:c')?.value, 'root'); // the leading slash is optional
    assert.equal(t.recognize('/a:b:c/')?.value, undefined); // a :param/glob needs at least one character
    assert.equal(t.recognize('/a:b:c/item/')?.value, 'glob');
    assert.equal(t.recognize('/x:y:z'), undefined);
  });

  it('segments split at `.` too; captures are raw; more literal segments win', () => {
    const t = new RouteTable<string>();
    t.add('/p:k:pub.os/file.:ext', 'ext');
    t.add('/p:k:pub.os/:name', 'name');
    assert.deepEqual(t.recognize('/p:k:pub.os/file.json')?.params, [['ext', 'json']]);
    assert.deepEqual(t.recognize('/p:k:pub.os/other.json')?.params, [['name', 'other.json']]);
    assert.deepEqual(t.recognize('/p:k:pub.os/a%20b')?.params, [['name', 'a%20b']]);
  });

  it('a rebind of the same shape replaces (names too); ties go to the earlier route', () => {
    const t = new RouteTable<string>();
    t.add('/p/:a', 'first');
    t.add('/p/:b', 'second');
    assert.equal(t.size, 1);
    assert.deepEqual(t.recognize('/p/x'), { value: 'second', pattern: '/p/:b', params: [['b', 'x']] });
    t.add('/q/:a/x', 'one');
    t.add('/q/x/:b', 'two');
    assert.equal(t.recognize('/q/x/x')?.value, 'one');
  });

  it('HTTP lookup falls back to the first segment; tombstones answer as found; WS is exact', () => {
    const b = new Bindings();
    const app = pid('a:b:c');
    const http = (path: string, owner: ProcessId | undefined) => ({
      app: owner, path, secureSubdomain: undefined, authenticated: false, localOnly: false, staticContent: undefined,
    });
    b.http.add('/a:b:c', http('/a:b:c', app));
    b.http.add('/a:b:c/gone', http('/a:b:c/gone', undefined));
    assert.equal(b.lookupHttp('/a:b:c/any/thing')?.pattern, '/a:b:c');
    assert.deepEqual(b.lookupHttp('/a:b:c/any')?.params, []);
    assert.equal(b.lookupHttp('/a:b:c/gone')?.value.app, undefined);
    assert.equal(b.lookupHttp('/x:y:z/a'), undefined);
    assert.equal(b.lookupHttp(''), undefined);
    assert.equal(b.lookupHttp('/rpc:distro:sys/message')?.value.rpc, true);
    // path traversal stays inside the first segment's owner
    assert.equal(b.lookupHttp('/a:b:c/../x:y:z')?.value.app, app);
    b.ws.add('/a:b:c', { app, secureSubdomain: undefined, authenticated: false, extension: false });
    assert.equal(b.lookupWs('/a:b:c')?.value.app, app);
    assert.equal(b.lookupWs('/a:b:c/sub'), undefined);
  });

  it('paths are stored under the binder prefix with one trailing slash stripped', () => {
    const p = pid('http-server:http-server:template.os');
    assert.equal(formatPathWithProcess(p, '/'), '/http-server:http-server:template.os');
    assert.equal(formatPathWithProcess(p, '/api/'), '/http-server:http-server:template.os/api');
    assert.equal(formatPathWithProcess(p, 'foo'), '/http-server:http-server:template.os/foo');
    assert.equal(formatPathWithProcess(p, '//'), '/http-server:http-server:template.os/');
    assert.equal(formatPathWithProcess(pid('homepage:homepage:sys'), '/x/'), '/x');
    assert.equal(normalizePath('/a//'), '/a/');
    assert.equal(secureSubdomain(p), 'http-server-template-os');
    assert.equal(secureSubdomain(pid('a:b_c:x.y-z')), 'b-c-x-y-z');
  });
});

describe('request details', () => {
  it('target, host, headers, query', () => {
    assert.deepEqual(splitTarget('/a/b?x=1&y'), { path: '/a/b', query: 'x=1&y' });
    assert.deepEqual(splitTarget('http://h:1/p?q'), { path: '/p', query: 'q' });
    assert.equal(hostnameOf('localhost:8080'), 'localhost');
    assert.equal(hostnameOf('[::1]:8080'), '[::1]');
    assert.equal(hostnameOf('sub.example.com'), 'sub.example.com');
    const h = serializeHeaders(['Host', 'x', 'X-A', '1', 'x-a', '2', 'X-Bin', 'caf\u00e9']);
    assert.deepEqual([...h], [['host', 'x'], ['x-a', '2'], ['x-bin', '']]);
    assert.deepEqual([...queryParams('a=1&a=2&b=x+y&c=%41%zz&d')], [['a', '2'], ['b', 'x y'], ['c', 'A%zz'], ['d', '']]);
  });

  it('peer address display and loopback', () => {
    const req = (remoteAddress: string) => ({ socket: { remoteAddress, remotePort: 5 } }) as unknown as IncomingMessage;
    assert.equal(peerSocketAddr(req('127.0.0.1')), '127.0.0.1:5');
    assert.equal(peerSocketAddr(req('::ffff:127.0.0.1')), '127.0.0.1:5');
    assert.equal(peerSocketAddr(req('::1')), '[::1]:5');
    assert.equal(isLoopbackPeer(req('127.3.4.5')), true);
    assert.equal(isLoopbackPeer(req('::1')), true);
    assert.equal(isLoopbackPeer(req('::ffff:127.0.0.1')), true);
    assert.equal(isLoopbackPeer(req('192.168.1.2')), false);
    assert.equal(isLoopbackPeer(req('::ffff:10.0.0.1')), false);
    assert.equal(isLoopbackPeer(req('2001:db8::1')), false);
  });
});

describe('auth', () => {
  const home = mkdtempSync(join(tmpdir(), 'kh-auth-'));

  it('the JWT secret is created once, private, and kept', () => {
    const s1 = loadJwtSecret(home);
    const s2 = loadJwtSecret(home);
    assert.equal(s1.length, 32);
    assert.deepEqual(s1, s2);
    assert.equal(statSync(join(home, 'http-server', 'jwt_secret')).mode & 0o777, 0o600);
  });

  it('cookie lookup follows the runtime rules', () => {
    assert.equal(cookieName('fake.dev', undefined), 'kinode-auth_fake.dev');
    assert.equal(cookieName('fake.dev', 'a:b:c'), 'kinode-auth_fake.dev@a:b:c');
    assert.equal(findCookie('x=1; kinode-auth_n=tok; y=2', 'kinode-auth_n'), 'tok');
    assert.equal(findCookie('kinode-auth_n=tok;x', 'kinode-auth_n'), 'tok;x');
    assert.equal(findCookie('x=1;kinode-auth_n=tok', 'kinode-auth_n'), undefined); // split on "; " only
    assert.equal(findCookie('kinode-auth_n=', 'kinode-auth_n'), undefined);
    assert.equal(findCookie('kinode-auth_n=a=b', 'kinode-auth_n'), undefined);
    assert.equal(findCookie(undefined, 'kinode-auth_n'), undefined);
  });

  it('tokens: valid, wrong subdomain, wrong node, forged, expired', async () => {
    const secret = loadJwtSecret(home);
    const auth = new Auth('fake.dev', secret, 'pw');
    assert.equal(auth.checkPassword('pw'), true);
    assert.equal(auth.checkPassword('nope'), false);
    const t = await auth.issue(undefined);
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${t}`, undefined), true);
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${t}`, 'a:b:c'), false);
    const sub = await auth.issue('a:b:c');
    assert.equal(await auth.valid(`kinode-auth_fake.dev@a:b:c=${sub}`, 'a:b:c'), true);
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${sub}`, undefined), false);
    assert.equal(await new Auth('other.dev', secret, 'pw').valid(`kinode-auth_fake.dev=${t}`, undefined), false);
    const forged = await new SignJWT({ username: 'fake.dev', subdomain: null, expiration: 9999999999 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32));
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${forged}`, undefined), false);
    const expired = await new SignJWT({ username: 'fake.dev', subdomain: null, expiration: 1000 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(readFileSync(join(home, 'http-server', 'jwt_secret')));
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${expired}`, undefined), false);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"username":"fake.dev","subdomain":null,"expiration":9999999999}').toString('base64url')}.x`;
    assert.equal(await auth.valid(`kinode-auth_fake.dev=${noneAlg}`, undefined), false);
    rmSync(home, { recursive: true, force: true });
  });
});

// ---------------------------------------------------------------- action handler

interface Sent {
  id: bigint | undefined;
  target: string;
  kind: 'request' | 'response';
  body: string;
}

function fakeContext(): { ctx: ModuleContext; sent: Sent[] } {
  const sent: Sent[] = [];
  const record = (m: ModuleSend) => {
    const body = m.message.tag === 'request' ? m.message.val.body : m.message.val[0].body;
    sent.push({ id: m.id, target: `${m.target.node}@${m.target.process.processName}`, kind: m.message.tag, body: new TextDecoder().decode(body) });
    return m.id ?? 0n;
  };
  const ctx: ModuleContext = {
    node: 'fake.dev',
    send: record,
    respond: (req, response, blob) =>
      void record({ id: req.id, target: req.rsvp ?? req.source, message: { tag: 'response', val: [response, undefined] }, lazyLoadBlob: blob }),
    generationOf: () => 1,
    print: () => {},
    onProcessExit: () => {},
    hasCapability: () => true,
    grantCapabilities: () => {},
    dropCapabilities: () => {},
  };
  return { ctx, sent };
}

function km(from: string, body: unknown, opts: { expects?: boolean; blob?: LazyLoadBlob; id?: bigint } = {}): KernelMessage {
  return {
    id: opts.id ?? 42n,
    source: { node: 'fake.dev', process: pid(from) },
    target: { node: 'fake.dev', process: pid('http-server:distro:sys') },
    rsvp: undefined,
    message: {
      tag: 'request',
      val: {
        inherit: false,
        expectsResponse: opts.expects === false ? undefined : 5n,
        body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
        metadata: undefined,
        capabilities: [],
      },
    },
    lazyLoadBlob: opts.blob,
  };
}

describe('action handler', () => {
  const setup = () => {
    const { ctx, sent } = fakeContext();
    const bindings = new Bindings();
    const ws = new WsServer({ ctx: () => ctx, bindings, auth: () => undefined, maxPayload: 1000, print: () => {}, println: () => {}, fallThrough: () => {} });
    const h = new ActionHandler(ctx, { bindings, ws, print: () => {}, println: () => {} });
    const run = (gen: Generation, m: KernelMessage) => {
      sent.length = 0;
      h.handle(m, gen);
      return sent.map((s) => `${s.kind} ${s.id} ${s.body}`);
    };
    return { run, bindings };
  };
  const P = 'p:k:pub.os';
  const blob: LazyLoadBlob = { mime: 'text/plain', bytes: new Uint8Array([104, 105]) };

  it('binds: Ok only when expected; NoBlob for cache without blob; tombstones; secure flags', () => {
    const { run, bindings } = setup();
    for (const gen of [0, 1] as const) {
      assert.deepEqual(run(gen, km(P, { Bind: { path: '/x/', authenticated: false, local_only: true, cache: false } })), ['response 42 {"Ok":null}']);
      assert.deepEqual(run(gen, km(P, { Bind: { path: '/x', authenticated: false, local_only: true, cache: false } }, { expects: false })), []);
      assert.deepEqual(run(gen, km(P, { Bind: { path: '/s', authenticated: false, local_only: false, cache: true } })), ['response 42 {"Err":"NoBlob"}']);
      // errors go out even when no response is expected
      assert.deepEqual(run(gen, km(P, { SecureBind: { path: '/s', cache: true } }, { expects: false })), ['response 42 {"Err":"NoBlob"}']);
    }
    assert.equal(bindings.lookupHttp(`/${P}/x`)?.value.localOnly, true);
    run(1, km(P, { Bind: { path: '/s', authenticated: false, local_only: false, cache: true } }, { blob }));
    assert.deepEqual(bindings.lookupHttp(`/${P}/s`)?.value.staticContent, blob);
    run(1, km(P, { SecureBind: { path: '/sec', cache: false } }));
    const sec = bindings.lookupHttp(`/${P}/sec`)?.value;
    assert.equal(sec?.secureSubdomain, 'k-pub-os');
    assert.equal(sec?.authenticated, true);
    assert.deepEqual(run(1, km(P, { Unbind: { path: '/x' } })), ['response 42 {"Ok":null}']);
    assert.equal(bindings.lookupHttp(`/${P}/x`)?.value.app, undefined);
    run(0, km(P, { WebSocketBind: { path: '/w', authenticated: true, encrypted: false, extension: true } }));
    assert.equal(bindings.lookupWs(`/${P}/w`)?.value.extension, true);
    run(1, km(P, { WebSocketUnbind: { path: '/w' } }));
    assert.equal(bindings.lookupWs(`/${P}/w`)?.value.app, undefined);
  });

  it('v1 refuses binds from ids that are not Kimap-safe; v0 accepts them', () => {
    const { run } = setup();
    const bad = 'my_proc:my_pkg:sys';
    for (const body of [
      { Bind: { path: '/', authenticated: false, local_only: false, cache: false } },
      { SecureBind: { path: '/', cache: false } },
      { WebSocketBind: { path: '/', authenticated: false, extension: false } },
      { WebSocketSecureBind: { path: '/', extension: false } },
    ]) {
      assert.deepEqual(run(1, km(bad, body)), ['response 42 {"Err":"InvalidSourceProcess"}']);
    }
    assert.deepEqual(run(0, km(bad, { Bind: { path: '/', authenticated: false, local_only: false, cache: false } })), ['response 42 {"Ok":null}']);
    assert.deepEqual(run(1, km(bad, { Unbind: { path: '/' } })), ['response 42 {"Ok":null}']);
  });

  it('malformed, rejected and WebSocket errors in each generation', () => {
    const { run } = setup();
    assert.deepEqual(run(0, km(P, '{"Bind":{}}')), ['response 42 {"Err":{"BadRequest":{"req":"{\\"Bind\\":{}}"}}}']);
    assert.deepEqual(run(1, km(P, 'garbage', { expects: false })), ['response 42 {"Err":"MalformedRequest"}']);
    // WebSocketOpen: the error, then (quirk) an Ok as well when expected
    assert.deepEqual(run(0, km(P, { WebSocketOpen: { path: '/', channel_id: 1 } })), [
      'response 42 {"Err":{"WebSocketPushError":{"error":"WebSocketOpen is not a valid request"}}}',
      'response 42 {"Ok":null}',
    ]);
    assert.deepEqual(run(1, km(P, { WebSocketOpen: { path: '/', channel_id: 1 } }, { expects: false })), ['response 42 {"Err":"MalformedRequest"}']);
    assert.deepEqual(run(1, km(P, { WebSocketExtPushData: { id: 1, kinode_message_type: 'Request', blob: [] } })), ['response 42 {"Err":"MalformedRequest"}']);
    assert.deepEqual(run(0, km(P, { WebSocketExtPushData: { id: 1, kinode_message_type: 'Request', blob: [] } })), [
      'response 42 {"Err":{"WebSocketPushError":{"error":"Use WebSocketExtPushOutgoing, not WebSocketExtPushData"}}}',
    ]);
    // pushes: no blob first, then ping/pong size, then the channel
    assert.deepEqual(run(1, km(P, { WebSocketPush: { channel_id: 9, message_type: 'Text' } })), ['response 42 {"Err":"NoBlob"}']);
    const long = { mime: undefined, bytes: new Uint8Array(126) };
    assert.deepEqual(run(1, km(P, { WebSocketPush: { channel_id: 9, message_type: 'Ping' } }, { blob: long })), ['response 42 {"Err":"WsPingPongTooLong"}']);
    assert.deepEqual(run(0, km(P, { WebSocketPush: { channel_id: 9, message_type: 'Pong' } }, { blob: long })), [
      'response 42 {"Err":{"WebSocketPushError":{"error":"Ping and Pong messages must be 125 bytes or less"}}}',
    ]);
    assert.deepEqual(run(1, km(P, { WebSocketPush: { channel_id: 9, message_type: 'Text' } }, { blob })), ['response 42 {"Err":"WsChannelNotFound"}']);
    assert.deepEqual(run(0, km(P, { WebSocketPush: { channel_id: 9, message_type: 'Text' } }, { blob })), [
      'response 42 {"Err":{"WebSocketPushError":{"error":"WebSocket channel not found"}}}',
    ]);
    // ext push: non-Binary is NoBlob; never an Ok
    assert.deepEqual(run(1, km(P, { WebSocketExtPushOutgoing: { channel_id: 9, message_type: 'Text', desired_reply_type: 'Response' } }, { blob })), [
      'response 42 {"Err":"NoBlob"}',
    ]);
    assert.deepEqual(run(1, km(P, { WebSocketExtPushOutgoing: { channel_id: 9, message_type: 'Binary', desired_reply_type: 'Response' } }, { blob })), [
      'response 42 {"Err":"WsChannelNotFound"}',
    ]);
    // closing an unknown channel is fine
    assert.deepEqual(run(1, km(P, { WebSocketClose: 9 })), ['response 42 {"Ok":null}']);
  });
});
