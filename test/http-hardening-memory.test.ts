// Issue 11.8, memory amplification, measured from outside a node booted through the CLI:
// concurrent large uploads to a process (the request-body budget), and an http-client response
// far past `--max-response` (refused with the era's error instead of being handed over whole).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cleanupTempDirs } from './helpers.js';
import { bootChild, HC, memoryOf, MiB, probePackage, resetPeak, rpc, type ChildNode } from './http-hardening-helpers.js';

const UPLOADS = Number(process.env.KH_UPLOADS ?? 6);
const UPLOAD = Buffer.alloc(60 * MiB, 0x61);

function post(port: number, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server that answers `/big` with 200 MiB, with or without a Content-Length. */
function bigServer(): Promise<Server> {
  const chunk = Buffer.alloc(MiB, 0x62);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/big')) {
      const total = 200;
      if (req.url.includes('length')) res.setHeader('content-length', String(total * MiB));
      let sent = 0;
      const more = (): void => {
        while (sent < total) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => {
        sent = total; // the client went away: stop
      });
      more();
      return;
    }
    res.end('small');
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

// (a generous --http-timeout: on a loaded machine a 60 MiB body takes the receiving process a
// while to copy in, and the 408 is not what is tested here)
describe('memory under large bodies (child node)', () => {
  let node: ChildNode;
  let upstream: Server;
  before(async () => {
    upstream = await bigServer();
    node = await bootChild([await probePackage(0), await probePackage(1)], ['--http-timeout', '300', ...(process.env.KH_EXTRA ?? '').split(' ').filter(Boolean)], [
      /probe ready .*probe:hard0:test\.os/,
      /probe ready .*probe:hard1:test\.os/,
      /hard1:test\.os: bind reply: \{"Ok":null\}/,
    ]);
  });
  after(async () => {
    await node?.stop();
    await new Promise<void>((r) => upstream?.close(() => r()));
    cleanupTempDirs();
  });

  it(`${UPLOADS} concurrent 60 MiB uploads are all answered, with a bounded peak`, async (t) => {
    const path = '/demo:hard1:test.os';
    assert.equal(await post(node.port, path, Buffer.from('warm-up')), 200);
    const base = memoryOf(node.pid).rss;
    const fresh = resetPeak(node.pid);
    const statuses = await Promise.all(Array.from({ length: UPLOADS }, () => post(node.port, path, UPLOAD)));
    assert.deepEqual(statuses, Array(UPLOADS).fill(200));
    const { rss, peak } = memoryOf(node.pid);
    const grown = (fresh ? peak : rss) - base;
    t.diagnostic(`${UPLOADS} x 60 MiB uploads: ${fresh ? 'peak' : 'RSS'} +${(grown / MiB).toFixed(0)} MiB (RSS after +${((rss - base) / MiB).toFixed(0)} MiB)`);
    // measured: before the body budget +811 MiB peak (the issue saw +940 MB); with it about
    // +610 MiB, most of it the receiving process's own copies (its wasm memory keeps growing)
    assert.ok(grown < 720 * MiB, `grew by ${(grown / MiB).toFixed(0)} MiB`);
  });

  for (const gen of [1, 0] as const) {
    for (const framing of ['chunked', 'length'] as const) {
      it(`v${gen}: a 200 MiB http-client response (${framing}) is refused past --max-response, with a bounded peak`, async (t) => {
        const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/big-${framing}`;
        const base = memoryOf(node.pid).rss;
        const fresh = resetPeak(node.pid);
        const got = await rpc<{ ok?: { body: string; blob: unknown } }>(node, `probe:hard${gen}:test.os`, {
          op: 'await',
          target: `fake.dev@${HC[gen]}`,
          body: { Http: { method: 'GET', version: null, url, headers: {} } },
          expects: 60,
        }, 90);
        const text = `response body for url (${url}) is larger than the ${64 * MiB} bytes allowed (--max-response)`;
        const want = gen === 0 ? { Err: { RequestFailed: { error: text } } } : { Err: { ExecuteRequestFailed: text } };
        assert.deepEqual(JSON.parse(got.ok!.body), want);
        assert.equal(got.ok!.blob, null);
        const { rss, peak } = memoryOf(node.pid);
        const grown = (fresh ? peak : rss) - base;
        t.diagnostic(`v${gen} 200 MiB response (${framing}): ${fresh ? 'peak' : 'RSS'} +${(grown / MiB).toFixed(0)} MiB`);
        assert.ok(grown < 200 * MiB, `grew by ${(grown / MiB).toFixed(0)} MiB`);
      });
    }
  }
});
