// http-client below the kernel: the HTTP executor against a real local server, and the module
// driven through a recording ModuleContext (reply rules, ordering, timeouts, WebSocket channels).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { Address, Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../host/types.js';
import type { ModuleContext, ModuleSend } from '../host/kernel/module.js';
import { createHttpAgent, executeHttpRequest, type HttpOutcome } from '../host/modules/http-client/http-request.js';
import { createHttpClientModule, type HttpClientModule } from '../host/modules/http-client/index.js';
import type { OutgoingHttpRequest } from '../host/wire/http-client.js';
import { closedPort, dec, enc, until } from './helpers.js';
import { servers, type HttpServerFixture, type WsServerFixture } from './peers.js';

const req = (method: string, url: string, headers: Array<[string, string]> = [], version?: string): OutgoingHttpRequest => ({
  method,
  url,
  headers,
  version,
});

function response(o: HttpOutcome) {
  if (o.kind !== 'response') assert.fail(JSON.stringify(o));
  return (o as Extract<HttpOutcome, { kind: 'response' }>).response;
}
function errorText(o: HttpOutcome): { kind: string; text?: string; early: boolean } {
  if (o.kind !== 'error') assert.fail(o.kind === 'response' ? `status ${o.response.status}` : o.kind);
  const e = o as Extract<HttpOutcome, { kind: 'error' }>;
  return { ...(e.error as { kind: string; text?: string }), early: e.early };
}
const echoed = (body: Uint8Array) =>
  JSON.parse(dec(body)) as { method: string; url: string; headers: Record<string, string>; body: string };

describe('http-client: HTTP requests', () => {
  let http: HttpServerFixture;
  const agent = createHttpAgent();
  const run = (r: OutgoingHttpRequest, body?: Uint8Array | string, signal?: AbortSignal) =>
    executeHttpRequest(r, typeof body === 'string' ? enc(body) : body, { dispatcher: agent, signal: signal ?? new AbortController().signal });

  before(async () => {
    http = await servers.startHttpServer();
  });
  after(async () => {
    await agent.destroy();
    await http.close();
  });

  it('GET: status, Pascal-Cased headers (last duplicate, non-ASCII as ""), only Accept added', async () => {
    const r = response(await run(req('GET', `${http.url}/echo?a=1`, [['X-Test', 'yes']]), ''));
    assert.equal(r.status, 200);
    const h = Object.fromEntries(r.headers);
    assert.equal(h['Content-Type'], 'application/json');
    assert.equal(h['X-Lower-Case'], 'yes');
    assert.equal(h['X-Dup'], 'second');
    assert.equal(h['X-Latin'], '');
    const e = echoed(r.body);
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/echo?a=1');
    assert.equal(e.headers['x-test'], 'yes');
    assert.equal(e.headers['accept'], '*/*');
    assert.equal(e.headers['accept-encoding'], undefined);
    assert.equal(e.headers['user-agent'], undefined);
  });

  it('POST, PUT and PATCH carry the blob as body; no blob sends no body', async () => {
    for (const method of ['POST', 'PUT', 'PATCH']) {
      const r = response(await run(req(method, `${http.url}/echo`, [['Content-Type', 'text/plain']]), `${method} body`));
      const e = echoed(r.body);
      assert.equal(e.method, method);
      assert.equal(Buffer.from(e.body, 'base64').toString(), `${method} body`);
      assert.equal(e.headers['content-type'], 'text/plain');
    }
    const e = echoed(response(await run(req('DELETE', `${http.url}/echo`))).body);
    assert.equal(e.method, 'DELETE');
    assert.equal(e.body, '');
  });

  it('large bodies both ways', async () => {
    const up = new Uint8Array(6 * 1024 * 1024).map((_, i) => i % 256);
    const n = 24 * 1024 * 1024;
    const r = response(await run(req('POST', `${http.url}/big?n=${n}`), up));
    assert.equal(Object.fromEntries(r.headers)['X-Received'], String(up.length));
    assert.equal(r.body.length, n);
    for (const i of [0, 250, 251, n - 1]) assert.equal(r.body[i], i % 251);
  });

  it('non-2xx is a response, not an error', async () => {
    const r = response(await run(req('GET', `${http.url}/status/503`)));
    assert.equal(r.status, 503);
    assert.equal(dec(r.body), 'status 503');
  });

  it('no decompression: gzip bytes arrive as sent', async () => {
    const r = response(await run(req('GET', `${http.url}/gzip`, [['Accept-Encoding', 'gzip']])));
    assert.equal(Object.fromEntries(r.headers)['Content-Encoding'], 'gzip');
    assert.equal(gunzipSync(r.body).toString(), servers.FILE_TEXT);
  });

  it('redirects: 9 are followed, the 10th is an error', async () => {
    const r = response(await run(req('GET', `${http.url}/redirect/8`)));
    assert.equal(echoed(r.body).url, '/echo');
    assert.equal(echoed(r.body).headers['referer'], `${http.url}/redirect/0`);
    const e = errorText(await run(req('GET', `${http.url}/redirect/9`)));
    assert.deepEqual(e, { kind: 'execute-failed', text: `error following redirect for url (${http.url}/redirect/0)`, early: false });
  });

  it('301/302/303 turn POST into a bodiless GET; 307/308 keep method and body', async () => {
    for (const s of [301, 302, 303]) {
      const e = echoed(response(await run(req('POST', `${http.url}/r${s}`, [['Content-Type', 'text/plain']]), 'data')).body);
      assert.equal(e.method, 'GET', `status ${s}`);
      assert.equal(e.body, '');
      assert.equal(e.headers['content-type'], undefined);
    }
    for (const s of [307, 308]) {
      const e = echoed(response(await run(req('PUT', `${http.url}/r${s}`), 'data')).body);
      assert.equal(e.method, 'PUT', `status ${s}`);
      assert.equal(Buffer.from(e.body, 'base64').toString(), 'data');
    }
  });

  it('a redirect to another host drops credentials; a missing Location returns the 3xx; a bad scheme fails', async () => {
    const same = echoed(response(await run(req('GET', `${http.url}/to?loc=/echo`, [['Authorization', 'Bearer x']]))).body);
    assert.equal(same.headers['authorization'], 'Bearer x');
    const other = `http://localhost:${http.port}/echo`;
    const cross = echoed(response(await run(req('GET', `${http.url}/to?loc=${encodeURIComponent(other)}`, [['Authorization', 'Bearer x']]))).body);
    assert.equal(cross.headers['authorization'], undefined);
    assert.equal(response(await run(req('GET', `${http.url}/nolocation`))).status, 302);
    assert.deepEqual(errorText(await run(req('GET', `${http.url}/to?loc=ftp://files.invalid/x`))), {
      kind: 'execute-failed',
      text: 'builder error for url (ftp://files.invalid/x)',
      early: false,
    });
  });

  it('URL credentials become basic auth', async () => {
    const u = new URL(http.url);
    const e = echoed(response(await run(req('GET', `http://us%20er:pw@${u.host}/echo`))).body);
    assert.equal(e.headers['authorization'], `Basic ${Buffer.from('us er:pw').toString('base64')}`);
  });

  it('validation errors, in the runtime order', async () => {
    assert.deepEqual(errorText(await run(req('GE T', 'not a url'))), { kind: 'bad-method', method: 'GE T', early: true });
    assert.deepEqual(errorText(await run(req('', `${http.url}/`))), { kind: 'bad-method', method: '', early: true });
    assert.deepEqual(errorText(await run(req('GET', 'not a url', [], 'HTTP/9'))), { kind: 'bad-url', url: 'not a url', early: true });
    assert.deepEqual(errorText(await run(req('GET', '/relative'))), { kind: 'bad-url', url: '/relative', early: true });
    assert.deepEqual(errorText(await run(req('GET', `${http.url}/`, [], 'HTTP/9'))), { kind: 'bad-version', version: 'HTTP/9', early: true });
    assert.deepEqual(errorText(await run(req('GET', 'mailto:a@b.invalid'))), {
      kind: 'build-failed',
      text: 'builder error for url (mailto:a@b.invalid)',
      early: true,
    });
    assert.deepEqual(errorText(await run(req('GET', 'ws://127.0.0.1:1/x'))), {
      kind: 'execute-failed',
      text: 'builder error for url (ws://127.0.0.1:1/x)',
      early: false,
    });
  });

  it('versions: HTTP/1.0 and HTTP/1.1 work; HTTP/0.9, HTTP/2.0 and HTTP/3.0 fail like hyper', async () => {
    for (const v of ['HTTP/1.0', 'HTTP/1.1']) assert.equal(response(await run(req('GET', `${http.url}/file`, [], v))).status, 200);
    for (const v of ['HTTP/0.9', 'HTTP/2.0', 'HTTP/3.0']) {
      assert.deepEqual(errorText(await run(req('GET', `${http.url}/file`, [], v))), {
        kind: 'execute-failed',
        text: `error sending request for url (${http.url}/file)`,
        early: false,
      });
    }
  });

  it('connection refused, and a server that closes the socket', async () => {
    const port = await closedPort();
    assert.deepEqual(errorText(await run(req('GET', `http://127.0.0.1:${port}`))), {
      kind: 'execute-failed',
      text: `error sending request for url (http://127.0.0.1:${port}/)`,
      early: false,
    });
    assert.deepEqual(errorText(await run(req('GET', `${http.url}/destroy`))), {
      kind: 'execute-failed',
      text: `error sending request for url (${http.url}/destroy)`,
      early: false,
    });
    // headers came, the body broke off: reqwest's `bytes().unwrap_or_default()` -> empty body
    const half = response(await run(req('GET', `${http.url}/half`)));
    assert.equal(half.status, 200);
    assert.equal(half.body.length, 0);
  });

  it('an aborted request ends and frees the server', async () => {
    const ctl = new AbortController();
    const p = run(req('GET', `${http.url}/slow`), undefined, ctl.signal);
    await until(() => http.held === 1, 'the slow request to arrive');
    ctl.abort();
    assert.deepEqual(await p, { kind: 'aborted' });
    await until(() => http.held === 0, 'the server side to close');
  });
});

// ------------------------------------------------------------------ the module, below the kernel

type Sent =
  | { kind: 'respond'; id: bigint; to: Address; body: string; blob: LazyLoadBlob | undefined }
  | { kind: 'send'; id: bigint; to: Address; body: string; blob: LazyLoadBlob | undefined };

class RecordingContext implements ModuleContext {
  readonly node = 'fake.dev';
  readonly sent: Sent[] = [];
  readonly prints: string[] = [];
  private readonly exitListeners: Array<(pid: ProcessId) => void> = [];
  private nextId = 1n;

  send(msg: ModuleSend): bigint {
    const id = msg.id ?? this.nextId++ + 1_000_000n;
    const body = msg.message.tag === 'request' ? msg.message.val.body : msg.message.val[0].body;
    this.sent.push({ kind: 'send', id, to: msg.target, body: dec(body), blob: msg.lazyLoadBlob });
    return id;
  }
  respond(r: KernelMessage, response: { body: Uint8Array }, blob?: LazyLoadBlob): void {
    this.sent.push({ kind: 'respond', id: r.id, to: r.rsvp ?? r.source, body: dec(response.body), blob });
  }
  generationOf(): Generation | undefined {
    return 1;
  }
  print(_v: number, text: string): void {
    this.prints.push(text);
  }
  hasCapability(): boolean {
    return true;
  }
  grantCapabilities(): void {}
  dropCapabilities(): void {}
  onProcessExit(l: (pid: ProcessId) => void): void {
    this.exitListeners.push(l);
  }
  exit(pid: ProcessId): void {
    for (const l of this.exitListeners) l(pid);
  }
  replyTo(id: bigint): Sent | undefined {
    return this.sent.find((s) => s.kind === 'respond' && s.id === id);
  }
  async waitReply(id: bigint, timeoutMs = 10000): Promise<Sent> {
    await until(() => this.replyTo(id) !== undefined, `reply to ${id}`, timeoutMs);
    return this.replyTo(id)!;
  }
}

const pid = (name: string): ProcessId => ({ processName: name, packageName: 'pkg', publisherNode: 'test.os' });
const addr = (name: string): Address => ({ node: 'fake.dev', process: pid(name) });
let ids = 1n;
function km(
  from: string,
  body: unknown,
  opts: { expects?: number; blob?: Uint8Array | string; rsvp?: string; response?: boolean } = {},
): KernelMessage {
  const bytes = body instanceof Uint8Array ? body : enc(typeof body === 'string' ? body : JSON.stringify(body));
  const blob = opts.blob === undefined ? undefined : { mime: undefined, bytes: typeof opts.blob === 'string' ? enc(opts.blob) : opts.blob };
  return {
    id: ids++,
    source: addr(from),
    target: { node: 'fake.dev', process: { processName: 'http-client', packageName: 'distro', publisherNode: 'sys' } },
    rsvp: opts.rsvp ? addr(opts.rsvp) : opts.expects !== undefined ? addr(from) : undefined,
    message: opts.response
      ? { tag: 'response', val: [{ inherit: false, body: bytes, metadata: undefined, capabilities: [] }, undefined] }
      : {
          tag: 'request',
          val: {
            inherit: false,
            expectsResponse: opts.expects === undefined ? undefined : BigInt(opts.expects),
            body: bytes,
            metadata: undefined,
            capabilities: [],
          },
        },
    lazyLoadBlob: blob,
  };
}
const httpAction = (method: string, url: string, version: string | null = null) => ({ Http: { method, version, url, headers: {} } });
const open = (url: string, channel_id: number, headers: Record<string, string> = {}) => ({ WebSocketOpen: { url, headers, channel_id } });
const push = (channel_id: number, message_type: string) => ({ WebSocketPush: { channel_id, message_type } });
const close = (channel_id: number) => ({ WebSocketClose: { channel_id } });

describe('http-client module: replies', () => {
  let http: HttpServerFixture;
  let ctx: RecordingContext;
  let mod: HttpClientModule;

  before(async () => {
    http = await servers.startHttpServer();
    ctx = new RecordingContext();
    mod = createHttpClientModule({ print: () => {}, limits: { unawaitedTimeoutMs: 1500 } });
    await mod.start(ctx);
  });
  after(async () => {
    await mod.stop();
    await http.close();
  });

  it('Http success is always answered (with the body as blob), Http errors only when expected', async () => {
    const a = km('p', httpAction('GET', `${http.url}/file`));
    mod.handle(a, 1);
    const r = await ctx.waitReply(a.id);
    assert.match(r.body, /^\{"Ok":\{"Http":\{"status":200,"headers":\{.*"Content-Type":"text\/plain".*\}\}\}\}$/);
    assert.deepEqual(r.blob, { mime: undefined, bytes: new Uint8Array(Buffer.from(servers.FILE_TEXT)) });

    const quiet = [httpAction('GET', 'nope'), httpAction('G T', 'http://x/'), httpAction('GET', 'http://127.0.0.1:1/', 'HTTP/7'), { Nope: 1 }];
    const loud = quiet.map((b) => km('p', b, { expects: 5 }));
    for (const b of quiet) mod.handle(km('p', b), 1);
    for (const m of loud) mod.handle(m, 0);
    const bodies = await Promise.all(loud.map((m) => ctx.waitReply(m.id).then((s) => s.body)));
    assert.deepEqual(bodies, [
      '{"Err":{"BadUrl":{"url":"nope"}}}',
      '{"Err":{"BadMethod":{"method":"G T"}}}',
      '{"Err":{"BadVersion":{"version":"HTTP/7"}}}',
      '{"Err":{"BadRequest":{"req":"{\\"Nope\\":1}"}}}',
    ]);
    assert.equal(ctx.sent.filter((s) => s.kind === 'respond').length, 1 + loud.length);
  });

  it('errors use the sender generation; responses to the module are ignored', async () => {
    const m = km('p', { Nope: 1 }, { expects: 5 });
    mod.handle(m, 1);
    assert.equal((await ctx.waitReply(m.id)).body, '{"Err":"MalformedRequest"}');
    const before = ctx.sent.length;
    mod.handle(km('p', httpAction('GET', `${http.url}/file`), { response: true }), 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ctx.sent.length, before);
  });

  it('replies go to the rsvp; execute errors print at verbosity 2 like the runtime', async () => {
    const m = km('p', httpAction('GET', `http://127.0.0.1:${await closedPort()}/`), { expects: 5, rsvp: 'waiter' });
    mod.handle(m, 1);
    const r = await ctx.waitReply(m.id);
    assert.equal(r.to.process.processName, 'waiter');
    assert.match(r.body, /^\{"Err":\{"ExecuteRequestFailed":"error sending request for url \(http:\/\/127\.0\.0\.1:\d+\/\)"\}\}$/);
    assert.ok(ctx.prints.includes('http-client: executed request but got error'));
    assert.ok(ctx.prints.some((p) => /^http-client: GET request to http:\/\/127\.0\.0\.1:\d+\/$/.test(p)));
  });

  it('concurrent requests are answered as they finish', async () => {
    const slow = km('p', httpAction('GET', `${http.url}/slow`), { expects: 1 });
    const fast = km('p', httpAction('GET', `${http.url}/file`), { expects: 5 });
    mod.handle(slow, 1);
    mod.handle(fast, 1);
    await ctx.waitReply(fast.id);
    assert.equal(ctx.replyTo(slow.id), undefined);
  });

  it('a request past its timeout is aborted without a reply; so is an unawaited one past the limit', async () => {
    await until(() => mod.inflight === 0 && http.held === 0, 'earlier slow requests to end', 5000);
    const timed = km('p', httpAction('GET', `${http.url}/slow`), { expects: 1 });
    const unawaited = km('p', httpAction('GET', `${http.url}/slow`));
    mod.handle(timed, 1);
    mod.handle(unawaited, 1);
    await until(() => http.held === 2, 'both to reach the server');
    await until(() => mod.inflight === 0 && http.held === 0, 'both to be aborted', 5000);
    assert.equal(ctx.replyTo(timed.id), undefined);
    assert.equal(ctx.replyTo(unawaited.id), undefined);
  });
});

describe('http-client module: WebSocket channels', () => {
  let ws: WsServerFixture;
  let ctx: RecordingContext;
  let mod: HttpClientModule;

  before(async () => {
    ws = await servers.startWsServer();
    ctx = new RecordingContext();
    mod = createHttpClientModule({ print: () => {} });
    await mod.start(ctx);
  });
  after(async () => {
    await mod.stop();
    await ws.close();
  });

  const sentTo = (name: string) => ctx.sent.filter((s) => s.to.process.processName === name);
  const notices = (name: string) => sentTo(name).filter((s) => s.kind === 'send');

  it('the Ack of an open always precedes the frames of its channel', async () => {
    for (let i = 0; i < 20; i++) {
      const name = `greet${i}`;
      const m = km(name, open(`${ws.url}/greet`, 0), { expects: 5 });
      mod.handle(m, 1);
      await until(() => notices(name).length === 1, 'the greeting');
      const seq = sentTo(name);
      assert.equal(seq[0]!.kind, 'respond');
      assert.equal(seq[0]!.body, '{"Ok":"WebSocketAck"}');
      assert.equal(seq[1]!.body, '{"WebSocketPush":{"channel_id":0,"message_type":"Text"}}');
      assert.deepEqual(seq[1]!.blob, { mime: 'text/plain', bytes: new Uint8Array(Buffer.from('ack client connection')) });
      // fresh ids for frames, never the open's id
      assert.notEqual(seq[1]!.id, m.id);
      mod.handle(km(name, close(0), { expects: 5 }), 1);
    }
  });

  it('text and binary frames both ways, pings and pongs, handshake headers', async () => {
    const o = km('tb', open(`${ws.url}/ping`, 3, { 'X-Hello': 'there' }), { expects: 5 });
    mod.handle(o, 1);
    assert.equal((await ctx.waitReply(o.id)).body, '{"Ok":"WebSocketAck"}');
    assert.equal(ws.events.find((e) => e.kind === 'open' && e.path === '/ping')?.headers?.['x-hello'], 'there');
    const t = km('tb', push(3, 'Text'), { blob: 'h\u00e9llo' });
    const b = km('tb', push(3, 'Binary'), { blob: new Uint8Array([0, 255, 7]) });
    const pi = km('tb', push(3, 'Ping'), { expects: 5 });
    const po = km('tb', push(3, 'Pong'), { expects: 5 });
    for (const m of [t, b, pi, po]) mod.handle(m, 1);
    await until(() => notices('tb').length >= 4, 'echoes, the server ping and the pong');
    const seen = notices('tb').map((s) => [s.body, s.blob?.mime ?? null, s.blob ? Buffer.from(s.blob.bytes).toString('hex') : null]);
    // the server pings on the first message, then echoes it
    assert.deepEqual(seen.slice(0, 2), [
      ['{"WebSocketPush":{"channel_id":3,"message_type":"Ping"}}', null, null],
      ['{"WebSocketPush":{"channel_id":3,"message_type":"Text"}}', 'text/plain', Buffer.from('h\u00e9llo').toString('hex')],
    ]);
    assert.deepEqual(
      seen.slice(2).sort(),
      [
        ['{"WebSocketPush":{"channel_id":3,"message_type":"Binary"}}', 'application/octet-stream', '00ff07'],
        ['{"WebSocketPush":{"channel_id":3,"message_type":"Pong"}}', null, null],
      ].sort(),
    );
    const serverSide = () => ws.events.filter((e) => e.path === '/ping' && e.kind !== 'open').map((e) => `${e.kind} ${e.data?.toString('hex')}`);
    await until(() => serverSide().length === 5, 'server events');
    // our frames in order, plus the automatic pong to the server's ping ("p")
    assert.deepEqual(serverSide().filter((e) => e !== 'pong 70'), [`text ${Buffer.from('h\u00e9llo').toString('hex')}`, 'binary 00ff07', 'ping ', 'pong ']);
    assert.ok(serverSide().includes('pong 70'));
    // every WebSocket action is answered, expected or not (the fire-and-forget ones are dropped by the kernel)
    for (const m of [t, b, pi, po]) assert.equal((await ctx.waitReply(m.id)).body, '{"Ok":"WebSocketAck"}');
  });

  it('push and close errors, per generation', async () => {
    const o = km('errs', open(`${ws.url}/echo`, 1), { expects: 5 });
    mod.handle(o, 0);
    await ctx.waitReply(o.id);
    const cases: Array<[unknown, Uint8Array | string | undefined, string, string]> = [
      [push(2, 'Text'), 'x', '{"WsPushFailed":{"req":"channel_id 2 not found"}}', '{"WsPushUnknownChannel":{"channel_id":2}}'],
      [push(1, 'Text'), undefined, '{"WsPushFailed":{"req":"no blob"}}', '"WsPushNoBlob"'],
      [push(1, 'Binary'), undefined, '{"WsPushFailed":{"req":"no blob"}}', '"WsPushNoBlob"'],
      [push(1, 'Text'), new Uint8Array([0xc3, 0x28]), '{"WsPushFailed":{"req":"failed to convert blob to string"}}', '"WsPushBadText"'],
      [close(2), undefined, '{"WsCloseFailed":{"channel_id":2}}', '{"WsCloseFailed":{"channel_id":2}}'],
      [open('not a url', 4), undefined, '{"BadUrl":{"url":"not a url"}}', '{"BadUrl":{"url":"not a url"}}'],
      [open('mailto:x@y.invalid', 4), undefined, '{"BadRequest":{"req":"failed to parse url into client request"}}', '{"WsOpenFailed":{"url":"mailto:x@y.invalid"}}'],
      [open(`http://127.0.0.1:${ws.port}/echo`, 4), undefined, `{"WsOpenFailed":{"url":"http://127.0.0.1:${ws.port}/echo"}}`, `{"WsOpenFailed":{"url":"http://127.0.0.1:${ws.port}/echo"}}`],
      [open(`ws://127.0.0.1:${await closedPort()}`, 4), undefined, '', ''],
    ];
    for (const [body, blob, v0, v1] of cases) {
      for (const gen of [0, 1] as const) {
        const m = km('errs', body, { expects: 5, blob });
        mod.handle(m, gen);
        const got = (await ctx.waitReply(m.id)).body;
        if (v0 === '') assert.match(got, /^\{"Err":\{"WsOpenFailed":\{"url":"ws:\/\/127\.0\.0\.1:\d+\/"\}\}\}$/);
        else assert.equal(got, `{"Err":${gen === 0 ? v0 : v1}}`);
      }
    }
    assert.deepEqual(mod.channelsOf('errs:pkg:test.os'), [1]);
  });

  it('channels are per process: others can neither push to nor close them', async () => {
    const o = km('owner', open(`${ws.url}/echo`, 5), { expects: 5 });
    mod.handle(o, 1);
    await ctx.waitReply(o.id);
    const p = km('intruder', push(5, 'Text'), { expects: 5, blob: 'hi' });
    const c = km('intruder', close(5), { expects: 5 });
    mod.handle(p, 1);
    mod.handle(c, 1);
    assert.equal((await ctx.waitReply(p.id)).body, '{"Err":{"WsPushUnknownChannel":{"channel_id":5}}}');
    assert.equal((await ctx.waitReply(c.id)).body, '{"Err":{"WsCloseFailed":{"channel_id":5}}}');
    assert.deepEqual(mod.channelsOf('owner:pkg:test.os'), [5]);
    // the same id in another process is another channel
    const o2 = km('intruder', open(`${ws.url}/echo`, 5), { expects: 5 });
    mod.handle(o2, 1);
    await ctx.waitReply(o2.id);
    mod.handle(km('intruder', push(5, 'Text'), { blob: 'mine' }), 1);
    await until(() => notices('intruder').length === 1, 'the echo');
    assert.equal(notices('owner').length, 0);
  });

  it('reopening an id replaces the channel quietly; a server close and an owner close end with WebSocketClose', async () => {
    const first = km('re', open(`${ws.url}/echo`, 1), { expects: 5 });
    mod.handle(first, 1);
    await ctx.waitReply(first.id);
    const opens = () => [...ws.connections].filter((c) => c.path === '/echo');
    const before = opens().length;
    const second = km('re', open(`${ws.url}/echo`, 1), { expects: 5 });
    mod.handle(second, 1);
    await ctx.waitReply(second.id);
    await until(() => opens().filter((c) => c.closed).length >= 1 && opens().length === before + 1, 'the old socket to close');
    mod.handle(km('re', push(1, 'Text'), { blob: 'still here' }), 1);
    await until(() => notices('re').length === 1, 'the echo on the new socket');
    assert.equal(notices('re')[0]!.body, '{"WebSocketPush":{"channel_id":1,"message_type":"Text"}}');

    // owner close: Ack, then the notice once the closing handshake is over
    const c = km('re', close(1), { expects: 5 });
    mod.handle(c, 1);
    assert.equal((await ctx.waitReply(c.id)).body, '{"Ok":"WebSocketAck"}');
    await until(() => notices('re').length === 2, 'the close notice');
    assert.equal(notices('re')[1]!.body, '{"WebSocketClose":{"channel_id":1}}');
    assert.deepEqual(mod.channelsOf('re:pkg:test.os'), []);

    // server close
    const o = km('srv', open(`${ws.url}/close`, 9), { expects: 5 });
    mod.handle(o, 1);
    assert.equal((await ctx.waitReply(o.id)).body, '{"Ok":"WebSocketAck"}');
    await until(() => notices('srv').length === 1, 'the close notice');
    assert.equal(notices('srv')[0]!.body, '{"WebSocketClose":{"channel_id":9}}');
    const p = km('srv', push(9, 'Text'), { expects: 5, blob: 'late' });
    mod.handle(p, 1);
    assert.equal((await ctx.waitReply(p.id)).body, '{"Err":{"WsPushUnknownChannel":{"channel_id":9}}}');
  });

  it('a process that exits loses its channels, silently', async () => {
    const o = km('leaver', open(`${ws.url}/exit`, 2), { expects: 5 });
    mod.handle(o, 1);
    await ctx.waitReply(o.id);
    const conn = [...ws.connections].find((c) => c.path === '/exit')!;
    ctx.exit(pid('leaver'));
    await until(() => conn.closed, 'the socket to close');
    assert.deepEqual(mod.channelsOf('leaver:pkg:test.os'), []);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(notices('leaver').length, 0);
  });

  it('WebSocket actions queued by a process that has exited since are dropped', async () => {
    const opensBefore = ws.events.filter((e) => e.kind === 'open' && e.path === '/gone').length;
    const o = km('gone', open(`${ws.url}/gone`, 1), { expects: 5 });
    mod.handle(o, 1);
    ctx.exit(pid('gone'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ctx.replyTo(o.id), undefined);
    assert.equal(ws.events.filter((e) => e.kind === 'open' && e.path === '/gone').length, opensBefore);
    assert.deepEqual(mod.channelsOf('gone:pkg:test.os'), []);
    // a new instance of that process starts afresh
    const again = km('gone', open(`${ws.url}/gone`, 1), { expects: 5 });
    mod.handle(again, 1);
    assert.equal((await ctx.waitReply(again.id)).body, '{"Ok":"WebSocketAck"}');
    assert.deepEqual(mod.channelsOf('gone:pkg:test.os'), [1]);
  });

  it('stop closes every socket', async () => {
    const o = km('last', open(`${ws.url}/stop`, 1), { expects: 5 });
    mod.handle(o, 1);
    await ctx.waitReply(o.id);
    const conn = [...ws.connections].find((c) => c.path === '/stop')!;
    await mod.stop();
    await until(() => conn.closed, 'the socket to close');
  });
});
