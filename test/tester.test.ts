// The runtime's tester (tester:tester:sys) as kit run-tests drives it: test wasm files and
// capabilities.json in /tester:sys/tests, `Run` answered Ok or with the failing test's
// file/line/column. The test component (components/tester-case) passes only when
// capabilities.json gives it the messaging capability to the setup package's probe.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

const BUILD = fileURLToPath(new URL('../../components/build/', import.meta.url));
const ECHO = 'echo:kitsetup:kinode-host.os';
const run = (names: string[], master = 'fake.dev', timeout = 20) =>
  ({ Run: { input_node_names: [master], test_names: names, test_timeout: timeout } });

describe('tester:tester:sys', () => {
  let node: KinodeNode;

  before(async () => {
    const setup = await makePackage({ packageName: 'kitsetup', publisher: 'kinode-host.os', processes: [{ name: 'echo', wasm: 'probe-v1', onExit: 'Restart' }] });
    node = await bootNode({ packages: [setup], verbosity: 1 });
    const tests = node.drive.hostPath('/tester:sys/tests')!;
    copyFileSync(join(BUILD, 'tester-case-v1.wasm'), join(tests, 'pass-case.wasm'));
    copyFileSync(join(BUILD, 'tester-case-v0.wasm'), join(tests, 'pass-case-v0.wasm'));
    copyFileSync(join(BUILD, 'tester-case-v1.wasm'), join(tests, 'fail-case.wasm'));
    const caps = { request_capabilities: [ECHO], grant_capabilities: [ECHO] };
    writeFileSync(join(tests, 'capabilities.json'), JSON.stringify({ 'pass-case': caps, 'pass-case-v0': caps, 'fail-case': { request_capabilities: [], grant_capabilities: [] } }));
  });
  after(async () => {
    await node.stop();
    cleanupTempDirs();
  });

  for (const name of ['pass-case', 'pass-case-v0']) {
    it(`runs ${name} as <u64>:tester:sys with capabilities.json's caps and answers Run Ok`, async () => {
      const from = node.prints.length;
      const r = await node.driver().request('fake.dev@tester:tester:sys', run([name]), { expects: 60 });
      assert.equal(r.text, '{"Run":{"Ok":null}}');
      await node.waitForPrint(/tester-case ready fake\.dev@\d+:tester:sys/, 60000, from);
      await node.waitForPrint(new RegExp(`tester-case: PASS \\(v${name.endsWith('v0') ? 0 : 1}\\)`), 60000, from);
      // the probe really heard from the test process
      await node.waitForPrint(/kitsetup:kinode-host\.os: hello from tester-case/, 60000, from);
    });
  }

  it('a failing test: Run Err with its name, file, line and column', async () => {
    const r = await node.driver().request('fake.dev@tester:tester:sys', run(['pass-case', 'fail-case']), { expects: 60 });
    const err = (r.json() as { Run: { Err: { test: string; file: string; line: number; column: number } } }).Run.Err;
    assert.equal(err.test, 'tester-case');
    assert.match(err.file, /tester-case/);
    assert.ok(err.line > 0 && err.column > 0, r.text);
    await node.waitForPrint(/tester: FAIL tester-case at .*tester-case.*:\d+:\d+/);
  });

  it('a test missing from the tests drive: Run Err from the tester, with the reason printed', async () => {
    const r = await node.driver().request('fake.dev@tester:tester:sys', run(['nope']), { expects: 30 });
    assert.equal(r.text, '{"Run":{"Err":{"test":"tester","file":"tester:tester:sys","line":0,"column":0}}}');
    await node.waitForPrint(/tester: test nope not found amongst \[capabilities\.json, fail-case\.wasm, pass-case-v0\.wasm, pass-case\.wasm\]/);
  });

  it('on a node that is not the first of input_node_names: Run Ok without running anything', async () => {
    const r = await node.driver().request('fake.dev@tester:tester:sys', run(['fail-case'], 'first.dev'), { expects: 30 });
    assert.equal(r.text, '{"Run":{"Ok":null}}');
  });

  it('a request that is not Run: Run Err from the tester', async () => {
    const r = await node.driver().request('fake.dev@tester:tester:sys', { Walk: {} }, { expects: 30 });
    assert.match(r.text, /"test":"tester"/);
  });
});
