// The Kinode book's http-server, ws-server and ws-server-with-reply examples (components/servers,
// both generations) served by a node, with curl and our own Python clients doing what the
// book's ws-client.py scripts do.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupTempDirs } from './helpers.js';
import { bookPkgs, bootHttpNode, curl, curlOk, onceBound, python, pythonOk, said404, type HttpNode } from './http-node.js';

after(() => cleanupTempDirs());

describe('the book examples, process-v1', () => {
  let h: HttpNode;
  before(async () => {
    h = await bootHttpNode(bookPkgs(1));
  });
  after(async () => {
    await h?.stop();
  });

  it('http-server: curl PUT gets the answer; the body is printed as serde_json::Value', { skip: !curlOk && 'curl missing' }, async () => {
    await h.node.waitForPrint(/^http-server:template\.os: begin$/, 60000);
    const r = await onceBound(() => curl(['-i', '-X', 'PUT', '-d', '{"Hello":"greetings"}', `${h.base}/http-server:http-server:template.os`]), said404);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\ncontent-type: application\/octet-stream\r\n/i);
    assert.match(r.stdout, /\r\ncontent-length: 0\r\n/i);
    await h.node.waitForPrint(/^http-server:template\.os: Ok\(Object \{"Hello": String\("greetings"\)\}\)$/);
    const g = await fetch(`${h.base}/http-server:http-server:template.os`);
    assert.equal(g.status, 408); // the example does not answer non-PUT requests
    await h.node.waitForPrint(/^http-server:template\.os: received a non-PUT HTTP request, skipping$/);
  });

  it('ws-server with a Python websockets client', { skip: !pythonOk && 'python3-websockets missing' }, async () => {
    await h.node.waitForPrint(/^ws-server:template\.os: begin$/, 60000);
    const out = await onceBound(() => python(BOOK_WS_CLIENT, `ws://localhost:${h.port}/ws-server:ws-server:template.os`), said404);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'Received from server: "ack client connection"\nSent to server: Hello from client\n');
    await h.node.waitForPrint(/^ws-server:template\.os: got Text from WS: Ok\("Hello from client"\)$/);
    await h.node.waitForPrint(/^ws-server:template\.os: got Close push$/);
  });

  it('ws-server-with-reply with Python msgpack; the unanswered ext request times out', { skip: !pythonOk && 'python3-msgpack missing' }, async () => {
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: begin$/, 60000);
    const out = await onceBound(() => python(BOOK_WS_REPLY_CLIENT, `ws://localhost:${h.port}/ws-server-with-reply:ws-server-with-reply:template.os`), said404);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'Received from server: ack client connection\n');
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: got Text from WS: Ok\("Hello from client"\)$/);
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: got Close push$/);
    // expects_response(15) and nobody answers the envelope: a timeout send-error
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: got send error!$/, 40000);
  });
});

// Our own Python clients doing what the book's ws-client.py scripts do.
const BOOK_WS_CLIENT = `
import asyncio, sys, websockets
async def main():
    ws = await websockets.connect(sys.argv[1], ping_interval=None)
    message = await ws.recv()
    print(f"Received from server: {message}")
    await ws.send("Hello from client")
    print("Sent to server: Hello from client")
    await ws.close()
asyncio.run(main())
`;

const BOOK_WS_REPLY_CLIENT = `
import asyncio, sys, msgpack, websockets
async def main():
    ws = await websockets.connect(sys.argv[1], ping_interval=None)
    frame = msgpack.unpackb(await ws.recv(), raw=False)["WebSocketExtPushData"]
    print(f"Received from server: {msgpack.unpackb(bytes(frame['blob']), raw=False)}")
    await ws.send(msgpack.packb("Hello from client", use_bin_type=True))
    await ws.close()
asyncio.run(main())
`;

describe('the book examples, process-v0', () => {
  let h: HttpNode;
  before(async () => {
    h = await bootHttpNode(bookPkgs(0));
  });
  after(async () => {
    await h?.stop();
  });

  it('http-server, ws-server and ws-server-with-reply', { skip: (!pythonOk || !curlOk) && 'python3 websockets/msgpack or curl missing' }, async () => {
    await h.node.waitForPrint(/^http-server:template\.os: begin$/, 60000);
    const r = await onceBound(() => curl(['-X', 'PUT', '-d', '{"Hello":"greetings"}', '-w', '%{http_code}', `${h.base}/http-server:http-server:template.os`]), said404);
    assert.equal(r.stdout, '200');
    await h.node.waitForPrint(/^http-server:template\.os: Ok\(Object \{"Hello": String\("greetings"\)\}\)$/);

    await h.node.waitForPrint(/^ws-server:template\.os: begin$/, 60000);
    const ws = await onceBound(() => python(BOOK_WS_CLIENT, `ws://127.0.0.1:${h.port}/ws-server:ws-server:template.os`), said404);
    assert.equal(ws.stdout, 'Received from server: "ack client connection"\nSent to server: Hello from client\n', ws.stderr);
    await h.node.waitForPrint(/^ws-server:template\.os: got Text from WS: Ok\("Hello from client"\)$/);
    await h.node.waitForPrint(/^ws-server:template\.os: got Close push$/);

    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: begin$/, 60000);
    const wr = await onceBound(() => python(BOOK_WS_REPLY_CLIENT, `ws://127.0.0.1:${h.port}/ws-server-with-reply:ws-server-with-reply:template.os`), said404);
    assert.equal(wr.stdout, 'Received from server: ack client connection\n', wr.stderr);
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: got Text from WS: Ok\("Hello from client"\)$/);
    await h.node.waitForPrint(/^ws-server-with-reply:template\.os: got send error!$/, 40000);
  });
});
