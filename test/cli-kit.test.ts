// kinode-host as kit drives it: the runtime's argument list (kit boot-fake-node / run-tests),
// `--version` as both kit eras parse it, `kit start-package`'s two RPC requests byte for byte
// with a zip of our own components (both app store names), then `kit inject-message` to the
// installed process; Ctrl-C (0x03) / Ctrl-D (0x04) written to stdin stop the node.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cleanupTempDirs, closedPort, makePackage, tempDir } from './helpers.js';
import { CLI, runCli, type Run } from './cli-run.js';
import { installBody, newPackageBody, postRpc, rpcBody, sha256Hex, zipDir } from './kit-fixtures.js';

after(() => cleanupTempDirs());

const run = (args: string[]): Run => runCli(args, { stdin: 'pipe', timeoutMs: 60000 });
const freePort = closedPort;

/** kit boot-fake-node's argument list (kit src/boot_fake_node/mod.rs run_runtime + execute). */
const kitArgs = (home: string, port: number, name = 'fake') => [
  home, '--port', String(port), '--verbosity', '0',
  '--password', 'secret', '--fake-node-name', name, '--fakechain-port', '8545',
];

describe('kinode-host as kit runs it', () => {
  it('--version prints one line both kit eras parse', () => {
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'kinode 1.0.0\n');
    // kit 0.8.5: second-to-last '\n' piece; kit 0.9.1: first piece; both: after the last space
    const kit085 = r.stdout.split('\n').reverse()[1]!.split(' ').pop()!;
    const kit091 = r.stdout.split('\n')[0]!.split(' ').pop()!;
    assert.equal(kit085, '1.0.0');
    assert.equal(kit091, '1.0.0');
  });

  it('boots from kit boot-fake-node\'s arguments, installs with kit start-package\'s two requests, then inject-message reaches the process', async () => {
    const home = join(tempDir('kh-kit-'), 'fake-node');
    const port = await freePort();
    const r = run(kitArgs(home, port));
    try {
      assert.equal(await r.waitLine(/listening/), `kinode-host listening on http://127.0.0.1:${port}`);
      for (const gen of [1, 0] as const) {
        const p = `kitpkg${gen}`;
        const store = gen === 0 ? 'main:app_store:sys' : 'main:app-store:sys'; // kit 0.8.5 / 0.9.1
        const http = gen === 0 ? 'http_server:distro:sys' : 'http-server:distro:sys';
        const dir = await makePackage({
          packageName: p,
          publisher: 'test.os',
          processes: [{ name: 'p', wasm: `probe-v${gen}`, onExit: 'Restart', public: true, requestCapabilities: [http], grantCapabilities: [http] }],
        });
        const api = await zipOf({ 'p.wit': 'interface p {}' });
        const zip = await zipDir(join(dir, 'pkg'), { 'api.zip': api });
        const hash = sha256Hex(zip);

        const added = await postRpc(port, rpcBody(store, newPackageBody(p, 'test.os'), zip));
        assert.deepEqual(added, { status: 200, body: '{"NewPackageResponse":"Success"}' });
        const installed = await postRpc(port, rpcBody(store, installBody(p, 'test.os', hash, gen), undefined));
        assert.deepEqual(installed, { status: 200, body: '{"InstallResponse":"Success"}' });
        await r.waitLine(new RegExp(`probe ready fake\\.dev@p:${p}:test\\.os`));

        // the pkg drive as the runtime's install leaves it: the files, the zip, api/ from api.zip
        const drive = join(home, 'vfs', `${p}:test.os`, 'pkg');
        assert.ok(existsSync(join(drive, 'manifest.json')));
        assert.ok(existsSync(join(drive, 'p.wasm')));
        assert.deepEqual(readFileSync(join(drive, `${p}:test.os.zip`)), zip);
        assert.equal(readFileSync(join(drive, 'api', 'p.wit'), 'utf8'), 'interface p {}');

        // kit inject-message: a request to the installed process, its reply read back
        const caps = await postRpc(port, rpcBody(`p:${p}:test.os`, '{"op":"ourCaps"}', undefined, 5));
        assert.equal(caps.status, 200);
        const held = (JSON.parse(caps.body!) as { ok: Array<{ issuer: string; params: string }> }).ok;
        assert.ok(held.some((c) => c.issuer === 'fake.dev@vfs:distro:sys' && JSON.parse(c.params).drive === `/${p}:test.os/pkg`), caps.body);
      }
      // (`.dev` was appended to --fake-node-name fake: the probes above are fake.dev@...)
      r.child.stdin!.write(Buffer.from([0x03]));
      assert.equal(await r.exit, 0);
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('installed packages start again when the same home boots again', async () => {
    const home = join(tempDir('kh-kit-'), 'again');
    const dir = await makePackage({ packageName: 'again', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }] });
    const zip = await zipDir(join(dir, 'pkg'));
    let port = await freePort();
    const first = run(kitArgs(home, port));
    await first.waitLine(/listening/);
    assert.deepEqual(await postRpc(port, rpcBody('main:app-store:sys', newPackageBody('again', 'test.os'), zip)), { status: 200, body: '{"NewPackageResponse":"Success"}' });
    assert.deepEqual(await postRpc(port, rpcBody('main:app-store:sys', installBody('again', 'test.os', sha256Hex(zip), 1), undefined)), { status: 200, body: '{"InstallResponse":"Success"}' });
    await first.waitLine(/probe ready fake\.dev@p:again:test\.os/);
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0);
    port = await freePort();
    const second = run(kitArgs(home, port));
    try {
      await second.waitLine(/probe ready fake\.dev@p:again:test\.os/);
    } finally {
      second.child.kill('SIGINT');
      assert.equal(await second.exit, 0);
    }
  });

  for (const [byte, name] of [[0x03, 'Ctrl-C'], [0x04, 'Ctrl-D']] as const) {
    it(`stops cleanly on ${name} (0x0${byte}) written to stdin, as kit run-tests stops its nodes`, async () => {
      const port = await freePort();
      const r = run([...kitArgs(join(tempDir('kh-kit-'), 'first'), port, 'first'), '--verbosity', '1']);
      try {
        await r.waitLine(/listening/);
        // a stdin left open stops nothing: the node still answers
        assert.equal((await fetch(`http://127.0.0.1:${port}/nothing`)).status, 404);
        r.child.stdin!.write(Buffer.from([byte]));
        assert.equal(await r.exit, 0);
        assert.ok(r.lines.some((l) => l.includes(`stopping (${name}`)), r.lines.join('\n'));
        // verbosity 1 names the flags that mean nothing here
        assert.ok(r.lines.includes('kinode-host: ignoring --fakechain-port (no chain: the node name is not minted)'), r.lines.join('\n'));
      } finally {
        r.child.kill('SIGKILL');
      }
    });
  }

  it('--port N taken: the error names the first free port after N', async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run([tempDir('kh-kit-'), '--port', String(port)]);
      assert.equal(await r.exit, 1);
      const line = r.lines.find((l) => l.includes(`cannot bind 127.0.0.1:${port}: EADDRINUSE`));
      assert.ok(line, r.lines.join('\n'));
      const free = Number(/first free port after \d+: (\d+)/.exec(line)![1]);
      assert.ok(free > port, line);
    } finally {
      blocker.close();
    }
  });

  it('a package path given on the command line that does not exist or cannot be installed exits 1 with the reason', async () => {
    const missing = run(['run', '/nonexistent/pkg', '--home', tempDir('kh-kit-'), '--port', String(await freePort())]);
    assert.equal(await missing.exit, 1);
    assert.ok(missing.lines.some((l) => l.includes('cannot install /nonexistent/pkg: /nonexistent/pkg: no such file or folder')), missing.lines.join('\n'));
    const dir = await makePackage({ packageName: 'broken', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }] });
    const manifest = join(dir, 'pkg', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('/p.wasm', '/missing.wasm'));
    const broken = run(['run', dir, '--home', tempDir('kh-kit-'), '--port', String(await freePort())]);
    assert.equal(await broken.exit, 1);
    assert.ok(broken.lines.some((l) => l.includes('/missing.wasm is not in the package')), broken.lines.join('\n'));
  });
});

/** A zip of the given files (api.zip). */
async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const yazl = (await import('yazl')).default;
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
