// Local peers for the http-client tests and for trying the client components by hand, all on
// 127.0.0.1 with a free port: an HTTP server with fixed routes, a `ws` WebSocket server, and
// the Python websockets server of ws-server.py (Debian's python3-websockets, /usr/bin/python3).
//
//   import { startHttpServer, startWsServer, startPythonWsServer } from './peers.mjs';

import { createServer } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FILE_TEXT = 'the file\nserved by the test server\n';

/**
 * Routes:
 *   /file            FILE_TEXT (text/plain)
 *   /echo            JSON {method, url, headers (lower-case), body (base64)}; extra response
 *                    headers: x-lower-case, two x-dup, a non-ASCII x-latin
 *   /big?n=N         N bytes, byte i = i % 251
 *   /status/N        status N, body "status N"
 *   /redirect/N      302 to /redirect/N-1; /redirect/0 -> 302 to /echo
 *   /r301 /r302 /r303 /r307 /r308   that status to /echo
 *   /to?loc=L        302 to L
 *   /nolocation      302 without Location
 *   /slow            never answers (until the server closes)
 *   /destroy         the socket is destroyed before any response
 *   /half            headers promise 100 bytes, 10 are sent, then the socket is destroyed
 *   /gzip            FILE_TEXT gzip-compressed, Content-Encoding: gzip
 * `requests` counts requests per path.
 */
export async function startHttpServer() {
  const requests = new Map();
  const held = new Set();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const p = url.pathname;
      const redirect = (status, loc) => {
        res.writeHead(status, loc === undefined ? {} : { Location: loc });
        res.end();
      };
      if (p === '/file') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(FILE_TEXT);
      } else if (p === '/echo') {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-lower-case', 'yes');
        res.setHeader('x-dup', ['first', 'second']);
        res.setHeader('x-latin', Buffer.from('caf\u00e9', 'latin1').toString('latin1'));
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('base64') }));
      } else if (p === '/big') {
        const n = Number(url.searchParams.get('n') ?? '0');
        const out = Buffer.alloc(n);
        for (let i = 0; i < n; i++) out[i] = i % 251;
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Received': String(body.length) });
        res.end(out);
      } else if (p.startsWith('/status/')) {
        const n = Number(p.slice(8));
        res.writeHead(n, { 'Content-Type': 'text/plain' });
        res.end(`status ${n}`);
      } else if (p.startsWith('/redirect/')) {
        const n = Number(p.slice(10));
        redirect(302, n <= 0 ? '/echo' : `/redirect/${n - 1}`);
      } else if (/^\/r30[12378]$/.test(p)) {
        redirect(Number(p.slice(2)), '/echo');
      } else if (p === '/to') {
        redirect(302, url.searchParams.get('loc') ?? '/echo');
      } else if (p === '/nolocation') {
        redirect(302, undefined);
      } else if (p === '/slow') {
        held.add(res);
        res.on('close', () => held.delete(res));
      } else if (p === '/destroy') {
        req.socket.destroy();
      } else if (p === '/half') {
        res.writeHead(200, { 'Content-Length': '100', 'Content-Type': 'text/plain' });
        res.write('0123456789', () => setTimeout(() => req.socket.destroy(), 20));
      } else if (p === '/gzip') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
        res.end(gzipSync(FILE_TEXT));
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    /** requests of /slow still open */
    get held() {
      return held.size;
    },
    close: () =>
      new Promise((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * A `ws` server. Paths: `/echo` echoes text as text and binary as binary; `/greet` sends
 * "ack client connection" at once, then echoes; `/close` closes (1000) right after the
 * handshake; `/ping` sends a ping with payload "p" after the first message. Records events.
 */
export async function startWsServer() {
  const events = [];
  const sockets = new Set();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const path = new URL(req.url, 'http://x').pathname;
    const conn = { path, headers: req.headers, closed: false, closeCode: undefined };
    events.push({ kind: 'open', path, headers: req.headers });
    sockets.add(conn);
    let first = true;
    ws.on('message', (data, isBinary) => {
      events.push({ kind: isBinary ? 'binary' : 'text', path, data: Buffer.from(data) });
      if (path === '/ping' && first) ws.ping(Buffer.from('p'));
      first = false;
      ws.send(data, { binary: isBinary });
    });
    ws.on('ping', (d) => events.push({ kind: 'ping', path, data: Buffer.from(d) }));
    ws.on('pong', (d) => events.push({ kind: 'pong', path, data: Buffer.from(d) }));
    ws.on('close', (code) => {
      conn.closed = true;
      conn.closeCode = code;
      events.push({ kind: 'close', path, code });
    });
    ws.on('error', () => {});
    if (path === '/greet') ws.send('ack client connection');
    if (path === '/close') ws.close(1000, 'bye');
  });
  await new Promise((r) => wss.on('listening', r));
  const port = wss.address().port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    events,
    connections: sockets,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3 with the websockets module is there. */
export function pythonWebsocketsAvailable() {
  const r = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * ws-server.py (the book's ws-client server, with a port argument) on 127.0.0.1.
 * Resolves once it listens; `output` collects its stdout lines; `exited` settles when it ends.
 */
export async function startPythonWsServer() {
  const child = spawn(PYTHON, ['-u', join(HERE, 'ws-server.py'), '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  let buffer = '';
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`ws-server.py did not start: ${output.join('\n')}`)), 20000);
    child.stdout.on('data', (d) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        output.push(line);
        const m = /^Server started at ws:\/\/[^:]+:(\d+)/.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      }
    });
    child.stderr.on('data', (d) => output.push(d.toString()));
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`ws-server.py exited (${code}): ${output.join('\n')}`));
    });
  });
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    output,
    exited,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
