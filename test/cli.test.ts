// The CLI as a user runs it: the ready line, the port rules, clean shutdown on signals.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { cleanupTempDirs, closedPort, makePackage, tempDir } from './helpers.js';
import { runCli, type Run } from './cli-run.js';

after(() => cleanupTempDirs());

const run = (args: string[]): Run => runCli(args);
const freePort = closedPort;

describe('kinode-host run', () => {
  it('prints exactly one listening line, serves the port, and exits 0 on SIGINT and SIGTERM', async () => {
    const pkg = await makePackage({ packageName: 'clipkg', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }] });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const port = await freePort();
      const r = run(['run', pkg, '--home', tempDir('kh-cli-'), '--port', String(port)]);
      const line = await r.waitLine(/listening/);
      assert.equal(line, `kinode-host listening on http://127.0.0.1:${port}`);
      await r.waitLine(/clipkg:test\.os: probe ready fake\.dev@p:clipkg:test\.os/);
      const res = await fetch(`http://127.0.0.1:${port}/nothing-bound-here`);
      assert.equal(res.status, 404);
      r.child.kill(signal);
      assert.equal(await r.exit, 0);
      assert.equal(r.lines.filter((l) => l.startsWith('kinode-host listening on')).length, 1);
    }
  });

  it('--port N exits with a clear error when N is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run(['run', '--home', tempDir('kh-cli-'), '--port', String(port)]);
      assert.equal(await r.exit, 1);
      assert.ok(r.lines.some((l) => l.includes(`cannot bind 127.0.0.1:${port}: EADDRINUSE`)), r.lines.join('\n'));
    } finally {
      blocker.close();
    }
  });

  it('without --port picks the first free port from 8080 up; --node names the node', async () => {
    const r = run(['run', '--home', tempDir('kh-cli-'), '--node', 'other.dev']);
    const line = await r.waitLine(/listening/);
    const port = Number(/:(\d+)$/.exec(line)![1]);
    assert.ok(port >= 8080 && port < 9000, line);
    r.child.kill('SIGINT');
    assert.equal(await r.exit, 0);
  });

  it('rejects a bad option value with usage help', async () => {
    const r = run(['run', '--verbosity', '9']);
    assert.notEqual(await r.exit, 0);
    assert.ok(r.lines.some((l) => /verbosity/.test(l)), r.lines.join('\n'));
  });
});
