// Issue 11.5 and 11.9 and the error replies of 11.2 / 11.8, on an in-process node: the binding
// limit (50,000 Binds by one process; others still answered), two Host headers, the error a push
// to a client that stopped reading gets, and the http-client response limit on its own.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Agent } from 'undici';
import type { KinodeNode } from '../host/node.js';
import { executeHttpRequest } from '../host/modules/http-client/http-request.js';
import { bootNode, cleanupTempDirs, cmd } from './helpers.js';
import { HS, MiB, probePackage, rawWebSocket } from './http-hardening-helpers.js';

/** Send raw request text; resolve with the status line once the server closes or answers. */
function rawStatus(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    s.write(text);
  });
}

describe('HTTP hardening (in-process node)', () => {
  let node: KinodeNode;
  const probe = (gen: 0 | 1): string => `probe:hard${gen}:test.os`;
  const at = (pid: string): string => `fake.dev@${pid}`;
  // WebSocket tests use the demo processes: the probes' bindings are counted to the limit exactly
  const demo = (gen: 0 | 1): string => `demo:hard${gen}:test.os`;
  before(async () => {
    node = await bootNode({ packages: [await probePackage(0), await probePackage(1)], verbosity: 0, wsSendBufferBytes: MiB });
    await node.waitForPrint(/probe ready .*probe:hard0/);
    await node.waitForPrint(/probe ready .*probe:hard1/);
    await node.waitForPrint(/hard1:test\.os: bind reply/);
    await node.waitForPrint(/hard0:test\.os: bind reply/);
  });
  after(async () => {
    await node?.stop();
    cleanupTempDirs();
  });

  it('two Host headers answer 400 (plain request and WebSocket upgrade); one is served', async () => {
    const path = '/demo:hard1:test.os';
    assert.equal(await rawStatus(node.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`), 'HTTP/1.1 200 OK');
    assert.equal(await rawStatus(node.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`), 'HTTP/1.1 400 Bad Request');
    assert.equal(await rawStatus(node.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nhost: a\r\nConnection: close\r\n\r\n`), 'HTTP/1.1 400 Bad Request');
    assert.equal(await rawStatus(node.port, `GET /login HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`), 'HTTP/1.1 400 Bad Request');
    await cmd(node, at(demo(1)), { op: 'await', target: `fake.dev@${HS[1]}`, body: { WebSocketBind: { path: '/ws', authenticated: false, extension: false } }, expects: 5 });
    const upgrade = (hosts: string) =>
      `GET /${demo(1)}/ws HTTP/1.1\r\n${hosts}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    assert.equal(await rawStatus(node.port, upgrade('Host: a\r\n')), 'HTTP/1.1 101 Switching Protocols');
    assert.equal(await rawStatus(node.port, upgrade('Host: a\r\nHost: b\r\n')), 'HTTP/1.1 400 Bad Request');
  });

  for (const gen of [0, 1] as const) {
    it(`v${gen}: a push to a client that stopped reading is refused with the era's error; the channel closes`, async () => {
      const p = demo(gen);
      await cmd(node, at(p), { op: 'await', target: `fake.dev@${HS[gen]}`, body: { WebSocketBind: { path: '/slow', authenticated: false, encrypted: false, extension: false } }, expects: 5 });
      const { socket } = await rawWebSocket(node.port, `/${p}/slow`);
      socket.pause();
      let channel: number | undefined;
      for (let i = 0; i < 50 && channel === undefined; i++) {
        const inbox = await cmd<Array<{ body: string }>>(node, at(p), { op: 'inbox' });
        const open = inbox.find((e) => e.body.includes('WebSocketOpen') && e.body.includes('"/slow"'));
        if (open) channel = (JSON.parse(open.body) as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(channel !== undefined);
      const text = 'x'.repeat(MiB / 4);
      let refused: string | undefined;
      // loopback buffers take a few MiB, then the node's 1 MiB mark is reached
      for (let i = 0; i < 400 && refused === undefined; i++) {
        const r = await cmd<{ ok?: { body: string } }>(node, at(p), {
          op: 'await',
          target: `fake.dev@${HS[gen]}`,
          body: { WebSocketPush: { channel_id: channel, message_type: 'Text' } },
          blob: { text },
          expects: 10,
        });
        if (r.ok?.body !== '{"Ok":null}') refused = r.ok?.body;
      }
      assert.equal(refused, gen === 0 ? '{"Err":{"WebSocketPushError":{"error":"WebSocket channel closed: the client is not reading"}}}' : '{"Err":"WsChannelNotFound"}');
      await node.waitForPrint(new RegExp(`websocket ${channel} of ${p.replace(/\./g, '\\.')}: client not reading`));
      socket.destroy();
    });
  }

  it('50,000 Binds by one process: past the limit they are refused (v1), other processes are still answered', async () => {
    const hog = probe(1);
    await cmd(node, at(hog), { op: 'autoRespond', response: { body: '{"status":200,"headers":{}}', quiet: true } });
    const bind = (i: number) => ({ target: `fake.dev@${HS[1]}`, body: { Bind: { path: `/r${i}/:id`, authenticated: false, local_only: false, cache: false } } });
    const BATCH = 5000;
    for (let i = 0; i < 50_000; i += BATCH) {
      await cmd(node, at(hog), { op: 'sendMany', requests: Array.from({ length: BATCH }, (_, j) => bind(i + j)) }, 60);
    }
    const last = await cmd<{ ok?: { body: string } }>(node, at(hog), { op: 'await', ...bind(50_000), expects: 10 });
    assert.equal(last.ok?.body, '{"Err":"InvalidSourceProcess"}');
    await node.waitForPrint(/http-server: refused to bind \/probe:hard1:test\.os\/r10000\/:id for probe:hard1:test\.os: a process may hold 10000 bindings/);
    // another process, and the hog's own routes up to the limit, are served; the rest is not bound
    const demo = await fetch(`http://127.0.0.1:${node.port}/demo:hard1:test.os/anything`);
    assert.equal(demo.status, 200);
    assert.match(await demo.text(), /hello from fake\.dev@demo:hard1:test\.os/);
    assert.equal((await fetch(`http://127.0.0.1:${node.port}/${hog}/r9999/x`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${node.port}/${hog}/r10000/x`)).status, 404);
    // a rebind of a route it holds is still fine at the limit
    const again = await cmd<{ ok?: { body: string } }>(node, at(hog), { op: 'await', ...bind(5), expects: 10 });
    assert.equal(again.ok?.body, '{"Ok":null}');
  });

  it('v0: the refusal is a PathBindError naming the limit', async () => {
    const hog = probe(0);
    const bind = (i: number) => ({ target: `fake.dev@${HS[0]}`, body: { Bind: { path: `/r${i}`, authenticated: false, local_only: false, cache: false } } });
    await cmd(node, at(hog), { op: 'sendMany', requests: Array.from({ length: 10_000 }, (_, j) => bind(j)) }, 60);
    const last = await cmd<{ ok?: { body: string } }>(node, at(hog), { op: 'await', ...bind(10_000), expects: 10 });
    assert.equal(last.ok?.body, '{"Err":{"PathBindError":{"error":"too many bindings: 10000 per process"}}}');
  });


});

describe('http-client response limit (unit)', () => {
  let server: Server;
  let base: string;
  const agent = new Agent();
  before(async () => {
    server = createServer((req, res) => {
      const body = Buffer.alloc(5000, 0x61);
      if (req.url === '/chunked') {
        res.write(body.subarray(0, 2500));
        res.end(body.subarray(2500));
      } else {
        res.setHeader('content-length', String(body.length));
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const run = (path: string, max: number, method = 'GET') =>
    executeHttpRequest({ method, version: undefined, url: `${base}${path}`, headers: [] }, undefined, {
      dispatcher: agent,
      signal: new AbortController().signal,
      maxResponseBytes: max,
    });

  it('bodies up to the limit arrive whole; past it (declared or counted) the request fails naming the limit', async () => {
    for (const path of ['/length', '/chunked']) {
      const ok = await run(path, 5000);
      assert.equal(ok.kind === 'response' && ok.response.body.length, 5000);
      const no = await run(path, 4999);
      assert.deepEqual(no, { kind: 'error', error: { kind: 'response-too-large', url: `${base}${path}`, limit: 4999 }, early: false });
    }
    // a HEAD answer has no body, whatever its Content-Length says
    const head = await run('/length', 10, 'HEAD');
    assert.equal(head.kind, 'response');
  });
});
