// The app store as kit's start-package meets it, on the failure paths: each bad request gets the
// runtime's failure reply and a printed reason, and the node (and what it had installed) keeps
// running. The success path, byte for byte through the CLI, is in cli-kit.test.ts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, makePackage } from './helpers.js';
import { installBody, newPackageBody, postRpc, rpcBody, sha256Hex, zipDir } from './kit-fixtures.js';

const STORE = 'main:app-store:sys';
const success = { status: 200, body: '{"InstallResponse":"Success"}' };
const failure = { status: 200, body: '{"InstallResponse":"Failure"}' };

describe('app store failures', () => {
  let node: KinodeNode;
  let pkgDir: string;
  let zip: Buffer;

  before(async () => {
    node = await bootNode({ verbosity: 0 });
    pkgDir = await makePackage({
      packageName: 'store',
      publisher: 'test.os',
      processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }],
      files: { 'old.txt': 'from the first version' },
    });
    zip = await zipDir(join(pkgDir, 'pkg'));
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, newPackageBody('store', 'test.os'), zip)), { status: 200, body: '{"NewPackageResponse":"Success"}' });
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, installBody('store', 'test.os', sha256Hex(zip), 1), undefined)), success);
    await node.waitForPrint(/probe ready fake\.dev@p:store:test\.os/, 120000);
  });
  after(async () => {
    await node.stop();
    cleanupTempDirs();
  });

  const stillRunning = async () => assert.equal(await cmd(node, 'fake.dev@p:store:test.os', { op: 'getState' }), null);

  it('NewPackage with no zip attached: NoBlob', async () => {
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, newPackageBody('store', 'test.os'), undefined)), { status: 200, body: '{"NewPackageResponse":"NoBlob"}' });
    await node.waitForPrint(/app-store: NewPackage store:test\.os: no zip attached/);
  });

  it('a malformed zip: InstallFailed with the reason printed', async () => {
    const from = node.prints.length;
    const r = await postRpc(node.port, rpcBody(STORE, newPackageBody('store', 'test.os'), Buffer.from('PK\u0003\u0004 not really a zip')));
    assert.deepEqual(r, { status: 200, body: '{"NewPackageResponse":"InstallFailed"}' });
    await node.waitForPrint(/app-store: NewPackage store:test\.os: store:test\.os zip: not a readable zip/, 5000, from);
    await stillRunning();
  });

  it('Install before NewPackage: Failure, printed', async () => {
    const r = await postRpc(node.port, rpcBody(STORE, installBody('never', 'test.os', sha256Hex(zip), 1), undefined));
    assert.deepEqual(r, failure);
    await node.waitForPrint(/app-store: Install never:test\.os: no NewPackage received for never:test\.os/);
  });

  it('a version_hash that matches no received zip: Failure, printed; a malformed one too', async () => {
    const wrong = sha256Hex(Buffer.from('something else'));
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, installBody('store', 'test.os', wrong, 1), undefined)), failure);
    await node.waitForPrint(new RegExp(`version_hash ${wrong} matches no zip received for store:test\\.os \\(have ${sha256Hex(zip)}\\)`));
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, installBody('store', 'test.os', '0xABC', 1), undefined)), failure);
    await node.waitForPrint(/version_hash "0xABC" is not a lowercase SHA-256 hex digest/);
    await stillRunning();
  });

  it('a manifest naming a missing wasm: Failure, printed, and the installed version is left as it was', async () => {
    const dir = await makePackage({ packageName: 'store', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }] });
    const manifest = join(dir, 'pkg', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('/p.wasm', '/gone.wasm'));
    const bad = await zipDir(join(dir, 'pkg'));
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, newPackageBody('store', 'test.os'), bad)), { status: 200, body: '{"NewPackageResponse":"Success"}' });
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, installBody('store', 'test.os', sha256Hex(bad), 1), undefined)), failure);
    await node.waitForPrint(/app-store: Install store:test\.os: .*\/gone\.wasm is not in the package/);
    assert.ok(existsSync(join(node.drive.packageDir('store:test.os'), 'old.txt')));
    await stillRunning();
  });

  it('a body the app store cannot handle: HandlingError with the reason', async () => {
    const r = await postRpc(node.port, rpcBody(STORE, '{"Uninstall":{"package_name":"store","publisher_node":"test.os"}}', undefined));
    assert.equal(r.status, 200);
    assert.match(r.body!, /^\{"HandlingError":"unknown variant `Uninstall`/);
  });

  it('a reinstall wipes the drive, and the process is killed and started again', async () => {
    const dir = await makePackage({ packageName: 'store', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }] });
    const second = await zipDir(join(dir, 'pkg'));
    await cmd(node, 'fake.dev@p:store:test.os', { op: 'setState', text: 'kept' });
    const from = node.prints.length;
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, newPackageBody('store', 'test.os'), second)), { status: 200, body: '{"NewPackageResponse":"Success"}' });
    assert.deepEqual(await postRpc(node.port, rpcBody(STORE, installBody('store', 'test.os', sha256Hex(second), 1), undefined)), success);
    await node.waitForPrint(/probe ready fake\.dev@p:store:test\.os/, 120000, from);
    assert.ok(!existsSync(join(node.drive.packageDir('store:test.os'), 'old.txt')));
    // state is keyed by process id: it survives the reinstall, as in the runtime
    assert.deepEqual(await cmd(node, 'fake.dev@p:store:test.os', { op: 'getState' }), { b64: Buffer.from('kept').toString('base64'), text: 'kept' });
  });
});
