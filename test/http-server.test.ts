// http-server through a real node, with real clients on 127.0.0.1: Node's fetch and http, `ws`,
// curl, and Python (`websockets`, `msgpack` from Debian, run with /usr/bin/python3). Processes
// of both generations: the `echo` server of components/servers/ and the probe (the book's
// examples: http-server-book.test.ts; the node and the clients: http-node.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { encodeExtPushData } from '../host/wire/msgpack.js';
import { cleanupTempDirs, cmd } from './helpers.js';
import { HS, pythonOk, curlOk, type HttpNode, bootHttpNode, both, echoPkg, probePkg, raw, run, curl, python, wsClient, wsRefusedStatus, esc, type EchoReply, type AwaitResult } from './http-node.js';

// ==========================================================================================

describe('http-server through a node', () => {
  let h: HttpNode;
  let cookie = '';

  before(async () => {
    h = await bootHttpNode([echoPkg(0), echoPkg(1), probePkg(0), probePkg(1)]);
    await h.node.waitForPrint(/^echo:template\.os: echo bound$/, 60000);
    await h.node.waitForPrint(/^echo-zero:template\.os: echo bound$/, 60000);
    for (const pkg of ['probe:test.os', 'probe-zero:test.os']) {
      for (const p of ['probe', 'nocap', 'nogrant']) await h.node.waitForPrint(new RegExp(`probe ready fake\\.dev@${p}:${esc(pkg)}`), 60000);
    }
    // a session cookie for the authenticated paths
    const r = await fetch(`${h.base}/login`, { method: 'POST', body: JSON.stringify({ password: 'secret-pw' }) });
    assert.equal(r.status, 200);
    cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  });
  after(async () => {
    await h?.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pid = `echo:${gen === 0 ? 'echo-zero' : 'echo'}:template.os`;
    const pkg = gen === 0 ? 'echo-zero:template.os' : 'echo:template.os';
    const sub = gen === 0 ? 'echo-zero-template-os' : 'echo-template-os';
    const probe = `fake.dev@probe:${gen === 0 ? 'probe-zero' : 'probe'}:test.os`;
    const HSNAME = `our@${HS[gen]}`;
    const viaProbe = (body: unknown, opts: { who?: string; blob?: unknown; expects?: number } = {}) =>
      cmd<AwaitResult>(h.node, opts.who ?? probe, { op: 'await', target: HSNAME, body, expects: opts.expects ?? 5, blob: opts.blob }, 30);

    describe(`HTTP, process-v${gen}`, () => {
      it('every IncomingHttpRequest field; the body as blob; the first-segment fallback', async () => {
        const r = await fetch(`${h.base}/${pid}/some/where/?a=1&b=x+y&a=2&c=%C3%A9`, {
          method: 'PUT',
          headers: { 'X-Custom': 'Value', 'Content-Type': 'text/plain' },
          body: 'hello body',
        });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'application/json');
        const j = (await r.json()) as EchoReply;
        assert.equal(j.body, 'hello body');
        assert.equal(j.http.method, 'PUT');
        assert.equal(j.http.url, `http://127.0.0.1/${pid}/some/where`);
        assert.equal(j.http.bound_path, `/${pid}`);
        assert.deepEqual(j.http.url_params, {});
        assert.deepEqual(j.http.query_params, { a: '2', b: 'x y', c: 'é' });
        assert.equal(j.http.headers['x-custom'], 'Value');
        assert.equal(j.http.headers['host'], `127.0.0.1:${h.port}`);
        assert.equal(j.http.headers['content-type'], 'text/plain');
        assert.match(j.http.source_socket_addr ?? '', /^127\.0\.0\.1:\d+$/);
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo got \\{"Http":\\{"source_socket_addr":`));
      });

      it(':param and *glob bindings give url_params; one trailing slash is stripped', async () => {
        const a = (await (await fetch(`${h.base}/${pid}/item/42/`)).json()) as EchoReply;
        assert.equal(a.http.bound_path, `/${pid}/item/:id`);
        assert.deepEqual(a.http.url_params, { id: '42' });
        assert.equal(a.http.url, `http://127.0.0.1/${pid}/item/42`);
        const b = (await (await fetch(`${h.base}/${pid}/files/a/b%20c/d.txt`)).json()) as EchoReply;
        assert.equal(b.http.bound_path, `/${pid}/files/*rest`);
        assert.deepEqual(b.http.url_params, { rest: 'a/b%20c/d.txt' });
        assert.equal(b.body, '');
      });

      it('the process chooses status and headers; set-cookie stays one header', async () => {
        const r = await raw(h.port, 'GET', `/${pid}?status=201&h_X-Extra=yes&h_Set-Cookie=${encodeURIComponent('a=b; c=d')}`);
        assert.equal(r.status, 201);
        assert.equal(r.headers['x-extra'], 'yes');
        assert.deepEqual(r.headers['set-cookie'], ['a=b; c=d']);
      });

      it('static content is served for GET only; other methods reach the process', async () => {
        const r = await fetch(`${h.base}/${pid}/static`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'text/html');
        assert.equal(await r.text(), '<h1>static</h1>');
        const p = await fetch(`${h.base}/${pid}/static`, { method: 'POST', body: 'x' });
        assert.equal(((await p.json()) as EchoReply).http.method, 'POST');
      });

      it('404 for unknown paths and unbound (tombstoned) paths; 500 for an unreadable answer; 408 for none', async () => {
        assert.equal((await fetch(`${h.base}/nothing:here:at.all/x`)).status, 404);
        assert.equal((await fetch(`${h.base}/nothing`)).status, 404); // `/` itself is the homepage's
        assert.equal((await fetch(`${h.base}/${pid}/gone`)).status, 404);
        assert.equal((await fetch(`${h.base}/${pid}/gone/deeper`)).status, 200); // no route: falls back to `/`
        assert.equal((await fetch(`${h.base}/${pid}?answer=garbage`)).status, 500);
        const r = await fetch(`${h.base}/${pid}?answer=none`);
        assert.equal(r.status, 408);
        assert.equal(await r.text(), '');
      });

      it('413 past the body limit (declared or chunked)', async () => {
        const big = 'x'.repeat(64 * 1024 + 1);
        assert.equal((await fetch(`${h.base}/${pid}`, { method: 'POST', body: big })).status, 413);
        if (curlOk) {
          // curl streams the body from stdin, chunked (no length declared up front)
          const c = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${h.base}/${pid}`], big.repeat(4));
          assert.equal(c.stdout, '413', JSON.stringify(c));
        }
        const ok = await fetch(`${h.base}/${pid}`, { method: 'POST', body: 'x'.repeat(64 * 1024) });
        assert.equal(((await ok.json()) as EchoReply).body?.length, 64 * 1024);
      });

      it('authenticated paths answer the login page without a valid cookie', async () => {
        const r = await fetch(`${h.base}/${pid}/private`);
        assert.equal(r.status, 200);
        assert.match(await r.text(), /id="login-form"/);
        const ok = await fetch(`${h.base}/${pid}/private`, { headers: { cookie } });
        assert.equal(((await ok.json()) as EchoReply).http.bound_path, `/${pid}/private`);
        assert.equal((await fetch(`${h.base}/${pid}/local`)).status, 200); // loopback peer
      });

      it('secure subdomains: 307 to the subdomain, 401 without a label, login for a subdomain cookie', async () => {
        const path = `/${pid}/secure?x=1`;
        const r = await raw(h.port, 'GET', path, { Host: `127.0.0.1:${h.port}` });
        assert.equal(r.status, 307);
        assert.equal(r.headers.location, `http://${sub}.127.0.0.1:${h.port}/${pid}/secure?x=1`);
        assert.equal((await raw(h.port, 'GET', path, { Host: `.x:${h.port}` })).status, 401);
        const host = `${sub}.localhost:${h.port}`;
        const login = await raw(h.port, 'GET', path, { Host: host, Cookie: cookie });
        assert.match(login.body, /id="login-form"/); // the node cookie is not the subdomain's
        const post = await raw(h.port, 'POST', '/login', { Host: host, 'Content-Type': 'application/json' }, JSON.stringify({ password: 'secret-pw', subdomain: pid }));
        assert.equal(post.status, 200);
        const set = String(post.headers['set-cookie']);
        assert.ok(set.startsWith(`kinode-auth_fake.dev@${pid}=`), set);
        const subCookie = set.split(';')[0]!;
        const ok = await raw(h.port, 'GET', path, { Host: host, Cookie: subCookie });
        assert.equal(ok.status, 200);
        assert.equal((JSON.parse(ok.body) as EchoReply).http.url, `http://${sub}.localhost/${pid}/secure`);
        // WebSocketSecureBind: the subdomain Host and its cookie, else plain HTTP
        const wsUrl = `ws://127.0.0.1:${h.port}/${pid}/ws-secure`;
        const c = await wsClient(wsUrl, { Host: host, Cookie: subCookie });
        assert.equal((JSON.parse(String((await c.next()).data)) as { open: string }).open, '/ws-secure');
        c.ws.close();
        assert.equal((await wsRefusedStatus(wsUrl, { Host: host, Cookie: cookie })).status, 200);
        assert.equal((await wsRefusedStatus(wsUrl, { Cookie: subCookie })).status, 200);
      });

      it('a traversal in the URL stays with the owner of the first segment', async () => {
        const other = gen === 0 ? 'echo:echo:template.os' : 'echo:echo-zero:template.os';
        const r = await raw(h.port, 'GET', `/${pid}/../${other}/item/1`);
        assert.equal(r.status, 200);
        const j = JSON.parse(r.body) as EchoReply;
        assert.equal(j.http.bound_path, `/${pid}`);
        assert.equal(j.http.url, `http://127.0.0.1/${pid}/../${other}/item/1`);
        assert.equal((await raw(h.port, 'GET', `/../${pid}/item/1`)).status, 404);
        assert.equal((await raw(h.port, 'GET', `/${pid}/%2e%2e/${other}`)).status, 200);
      });

      it('actions through the probe: Ok, malformed, a process without the capability', async () => {
        const bind = { Bind: { path: '/p', authenticated: false, local_only: false, cache: false } };
        assert.equal((await viaProbe(bind)).ok?.body, '{"Ok":null}');
        const probePid = probe.split('@')[1]!;
        assert.equal((await fetch(`${h.base}/${probePid}/p`)).status, 408); // the probe does not answer Http
        const bad = await viaProbe({ Bind: { path: '/p' } });
        assert.equal(bad.ok?.body, gen === 0 ? '{"Err":{"BadRequest":{"req":"{\\"Bind\\":{\\"path\\":\\"/p\\"}}"}}}' : '{"Err":"MalformedRequest"}');
        assert.equal((await viaProbe({ WebSocketClose: 12345 })).ok?.body, '{"Ok":null}');
        // no capability to message the module: the request is dropped, a timeout at once
        const nocap = await viaProbe(bind, { who: probe.replace('@probe:', '@nocap:') });
        assert.equal(nocap.err?.errorKind, 'timeout');
        // the module may not answer a process that did not grant it messaging: the ack never
        // arrives, and Http to its binding times out (408)
        const nogrant = probe.replace('@probe:', '@nogrant:');
        assert.equal((await viaProbe(bind, { who: nogrant, expects: 2 })).err?.errorKind, 'timeout');
        assert.equal((await fetch(`${h.base}/${nogrant.split('@')[1]}/p`)).status, 408);
      });
    });

    describe(`WebSockets, process-v${gen}`, () => {
      const wsBase = () => `ws://127.0.0.1:${h.port}/${pid}`;

      it('open, Text and Binary both ways, pings, client close', async () => {
        const c = await wsClient(`${wsBase()}/ws/`);
        const open = JSON.parse(String((await c.next()).data)) as { open: string; channel: number };
        assert.equal(open.open, '/ws');
        assert.ok(Number.isInteger(open.channel) && open.channel >= 0 && open.channel < 2 ** 32);
        assert.deepEqual(h.mod.channelsOf(pid), [open.channel]);
        c.ws.send('hi there');
        assert.equal((await c.next()).data, 'echo: hi there');
        c.ws.send(Buffer.from([0, 1, 255]));
        assert.deepEqual((await c.next()).data, Buffer.from([0, 1, 255]));
        c.ws.send('ping:abc');
        assert.deepEqual((await c.next((m) => m.kind === 'ping')).data, Buffer.from('abc'));
        c.ws.ping(Buffer.from('p1'));
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo got \\{"WebSocketPush":\\{"channel_id":${open.channel},"message_type":"Ping"\\}\\}`));
        c.ws.close(1000, 'bye');
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo got \\{"WebSocketPush":\\{"channel_id":${open.channel},"message_type":"Close"\\}\\}`));
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo blob bye$`));
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo got \\{"WebSocketClose":${open.channel}\\}`));
        // pushing to the closed channel
        const closed = await viaProbe({ WebSocketPush: { channel_id: open.channel, message_type: 'Text' } }, { blob: { text: 'x' } });
        assert.equal(closed.ok?.body, gen === 0 ? '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not found"}}}' : '{"Err":"WsChannelNotFound"}');
      });

      it('many clients per path; a foreign process cannot push to or close a channel; the owner closes it', async () => {
        const a = await wsClient(`${wsBase()}/ws`);
        const b = await wsClient(`${wsBase()}/ws`);
        const ida = (JSON.parse(String((await a.next()).data)) as { channel: number }).channel;
        const idb = (JSON.parse(String((await b.next()).data)) as { channel: number }).channel;
        assert.notEqual(ida, idb);
        const push = await viaProbe({ WebSocketPush: { channel_id: ida, message_type: 'Text' } }, { blob: { text: 'intruder' } });
        assert.equal(push.ok?.body, gen === 0 ? '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not owned by this process"}}}' : '{"Err":"WsChannelNotFound"}');
        const close = await viaProbe({ WebSocketClose: ida });
        assert.equal(close.ok?.body, gen === 0 ? '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not owned by this process"}}}' : '{"Err":"WsChannelNotFound"}');
        a.ws.send('close'); // echo answers with WebSocketClose for this channel
        assert.equal((await a.next((m) => m.kind === 'close')).kind, 'close');
        b.ws.send('still here');
        assert.equal((await b.next()).data, 'echo: still here');
        b.ws.close();
        await b.next((m) => m.kind === 'close');
      });

      it('upgrades that are not ours fall through to HTTP', async () => {
        assert.equal((await wsRefusedStatus(`ws://127.0.0.1:${h.port}/no:such:proc/ws`)).status, 404);
        // HTTP-bound only: the process answers the handshake request as Http
        const r = await wsRefusedStatus(`${wsBase()}/item/7`);
        assert.equal(r.status, 200);
        assert.equal((JSON.parse(r.body) as EchoReply).http.bound_path, `/${pid}/item/:id`);
        // authenticated WS path without a cookie: plain HTTP, the process's `/` binding answers
        assert.equal((await wsRefusedStatus(`${wsBase()}/ws-private`)).status, 200);
        const ok = await wsClient(`${wsBase()}/ws-private`, { Cookie: cookie });
        assert.equal((JSON.parse(String((await ok.next()).data)) as { open: string }).open, '/ws-private');
        ok.ws.close();
        // WS lookup is exact: no fallback to a parent path
        assert.equal((await wsRefusedStatus(`${wsBase()}/ws/deeper`)).status, 200);
      });

      it('at most 128 open sockets; further upgrades are answered as HTTP', { skip: gen === 0 && 'once is enough' }, async () => {
        const clients = [];
        for (let i = 0; i < 128; i++) clients.push(await wsClient(`${wsBase()}/ws`));
        assert.equal((await wsRefusedStatus(`${wsBase()}/ws`)).status, 200);
        for (const c of clients) c.ws.close();
        for (const c of clients) await c.next((m) => m.kind === 'close');
        for (let i = 0; h.mod.channelsOf(pid).length > 0; i++) {
          assert.ok(i < 200, 'the server forgets closed sockets');
          await new Promise((r) => setTimeout(r, 50));
        }
        const again = await wsClient(`${wsBase()}/ws`);
        again.ws.close();
      });

      it('extension envelopes with Python msgpack: byte-exact out, replies by id in', { skip: !pythonOk && 'python3-websockets/python3-msgpack missing' }, async () => {
        const script = `
import asyncio, sys, json, msgpack, websockets
async def main():
    async with websockets.connect(sys.argv[1], ping_interval=None) as ws:
        opened = json.loads(await ws.recv())
        await ws.send("plain text")
        print(json.dumps({"plain": await ws.recv()}), flush=True)
        await ws.send("ext:hello")
        frame = await ws.recv()
        env = msgpack.unpackb(frame, raw=False)["WebSocketExtPushData"]
        print(json.dumps({"hex": frame.hex(), "id": str(env["id"]), "type": env["kinode_message_type"], "blob": bytes(env["blob"]).decode()}), flush=True)
        reply = {"WebSocketExtPushData": {"id": env["id"], "kinode_message_type": "Response", "blob": list(b"world")}}
        await ws.send(msgpack.packb(reply, use_bin_type=True))
        print(json.dumps({"after": await ws.recv()}), flush=True)
        req = {"WebSocketExtPushData": {"id": 7, "kinode_message_type": "Request", "blob": list(b"as request")}}
        await ws.send(msgpack.packb(req, use_bin_type=True))
        print(json.dumps({"echoed": (await ws.recv()).decode()}), flush=True)
asyncio.run(main())
`;
        const out = await python(script, `${wsBase()}/ext`);
        assert.equal(out.code, 0, out.stderr);
        const [plain, env, after, echoed] = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.equal(plain!.plain, 'echo: plain text'); // not an envelope: forwarded raw
        assert.equal(env!.type, 'Response');
        assert.equal(env!.blob, 'hello');
        const expected = Buffer.from(encodeExtPushData(BigInt(env!.id as string), 'Response', new TextEncoder().encode('hello'))).toString('hex');
        assert.equal(env!.hex, expected);
        assert.equal(after!.after, 'ext reply: world');
        // a Request envelope: delivered as a Binary push carrying the envelope's blob
        assert.equal(echoed!.echoed, 'as request');
        await h.node.waitForPrint(new RegExp(`^${esc(pkg)}: echo ext reply: world$`));
      });
    });
  }

  describe('login', () => {
    it('GET /login serves the page; POST checks the password', async () => {
      const page = await fetch(`${h.base}/login`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /fake\.dev/);
      const bad = await fetch(`${h.base}/login`, { method: 'POST', body: 'password=x' });
      assert.equal(bad.status, 400);
      assert.equal(await bad.json(), 'Failed to parse login info');
      const wrong = await fetch(`${h.base}/login`, { method: 'POST', body: JSON.stringify({ password: 'nope' }) });
      assert.equal(wrong.status, 500);
      assert.equal(wrong.headers.get('set-cookie'), null);
      const hash = await fetch(`${h.base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret-pw', subdomain: null }) });
      assert.equal(hash.status, 200);
      assert.match(hash.headers.get('set-cookie') ?? '', /^kinode-auth_fake\.dev=[\w-]+\.[\w-]+\.[\w-]+;$/); // the runtime's header: no attributes
    });

    it('?redirect= answers 303 to a path on this host', async () => {
      const r = await raw(h.port, 'POST', '/login?redirect=/echo:echo:template.os/private', { Host: `127.0.0.1:${h.port}` }, JSON.stringify({ password: 'secret-pw' }));
      assert.equal(r.status, 303);
      assert.equal(r.headers.location, `http://127.0.0.1:${h.port}/echo:echo:template.os/private`);
      assert.equal(r.headers['content-length'], '0');
      const evil = await raw(h.port, 'POST', '/login?redirect=@evil.example', { Host: `127.0.0.1:${h.port}` }, JSON.stringify({ password: 'secret-pw' }));
      assert.equal(evil.headers.location, `http://127.0.0.1:${h.port}/`);
    });

    it('forged and expired cookies get the login page', async () => {
      const secret = readFileSync(join(h.home, 'http-server', 'jwt_secret'));
      const sign = (key: Uint8Array, expiration: number) =>
        new SignJWT({ username: 'fake.dev', subdomain: null, expiration }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiration).sign(key);
      const forged = await sign(new Uint8Array(32).fill(7), Math.floor(Date.now() / 1000) + 3600);
      const expired = await sign(secret, Math.floor(Date.now() / 1000) - 10);
      const valid = await sign(secret, Math.floor(Date.now() / 1000) + 3600);
      const get = (c: string) => raw(h.port, 'GET', '/echo:echo:template.os/private', { Cookie: `kinode-auth_fake.dev=${c}` });
      assert.match((await get(forged)).body, /id="login-form"/);
      assert.match((await get(expired)).body, /id="login-form"/);
      assert.match((await get('not-a-jwt')).body, /id="login-form"/);
      assert.equal((JSON.parse((await get(valid)).body) as EchoReply).http.bound_path, '/echo:echo:template.os/private');
    });
  });

  describe('RPC endpoint', () => {
    it('POST /rpc:distro:sys/message reaches a process and returns its answer', async () => {
      const probe = 'probe:probe:test.os';
      // the probe answers commands; http-server may message it (it granted the capability)
      const r = await fetch(`${h.base}/rpc:distro:sys/message`, {
        method: 'POST',
        body: JSON.stringify({ process: probe, expects_response: 5, body: JSON.stringify({ op: 'our' }) }),
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/html');
      const j = (await r.json()) as { body: number[]; lazy_load_blob: unknown };
      assert.deepEqual(JSON.parse(Buffer.from(j.body).toString()), { ok: `fake.dev@${probe}` });
      assert.equal(j.lazy_load_blob, null);
      assert.equal((await fetch(`${h.base}/rpc:distro:sys/message`, { method: 'POST', body: '{"process":"bad"}' })).status, 400);
      assert.equal((await fetch(`${h.base}/rpc:distro:sys/message`, { method: 'POST', body: 'nope' })).status, 400);
      const fire = await fetch(`${h.base}/rpc:distro:sys/message`, { method: 'POST', body: JSON.stringify({ process: probe, body: '{"op":"print","verbosity":0,"text":"rpc says hi"}' }) });
      assert.equal(fire.status, 200);
      await h.node.waitForPrint(/probe:test\.os: rpc says hi/);
    });
  });

});

describe('a raw socket', () => {
  it('an HTTP/1.0 request without Host gets url http://localhost/...', async () => {
    const h = await bootHttpNode([echoPkg(1)]);
    try {
      await h.node.waitForPrint(/^echo:template\.os: echo bound$/, 60000);
      const text = await new Promise<string>((resolve, reject) => {
        const s = connect(h.port, '127.0.0.1', () => s.write('GET /echo:echo:template.os/item/9 HTTP/1.0\r\n\r\n'));
        const chunks: Buffer[] = [];
        s.on('data', (c) => chunks.push(c));
        s.on('end', () => resolve(Buffer.concat(chunks).toString()));
        s.on('error', reject);
      });
      assert.match(text, /^HTTP\/1\.1 200 OK/);
      const j = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as EchoReply;
      assert.equal(j.http.url, 'http://localhost/echo:echo:template.os/item/9');
      assert.deepEqual(j.http.headers, {});
    } finally {
      await h.stop();
    }
  });
});
