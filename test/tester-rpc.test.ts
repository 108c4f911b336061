// kit run-tests' own requests, byte for byte, against a node: the boot probe (a vfs ReadDir of
// /tester:sys/tests through RPC, any 200 counts), the uploads of the test wasm and
// capabilities.json (vfs Write through RPC, allowed by the tester's grant to http-server), and
// Run to tester:tester:sys through RPC. Needs the vfs module; skipped (saying so) without it.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';
import { postRpc, rpcBody } from './kit-fixtures.js';
import { VFS_NAMES } from '../host/wire/names.js';

const WASM = fileURLToPath(new URL('../../components/build/tester-case-v1.wasm', import.meta.url));
const ECHO = 'echo:kitsetup:kinode-host.os';

after(() => cleanupTempDirs());

describe('kit run-tests through RPC', () => {
  it('boot probe, uploads through vfs, then Run: Ok for the test with caps, the failure for the one without', async (t) => {
    const setup = await makePackage({ packageName: 'kitsetup', publisher: 'kinode-host.os', processes: [{ name: 'echo', wasm: 'probe-v1', onExit: 'Restart' }] });
    // kit's fake nodes (simulation builds) let an RPC request wait 600 s
    const node = await bootNode({ packages: [setup], nodeName: 'first.dev', httpTimeoutMs: 600_000 });
    try {
      if (!node.module(VFS_NAMES.v1)) {
        t.skip('the vfs module is not registered on this branch');
        return;
      }
      // kit's wait_until_booted
      const probe = await postRpc(node.port, rpcBody('vfs:distro:sys', '{"action":"ReadDir","path":"/tester:sys/tests"}', undefined));
      assert.equal(probe.status, 200);
      // kit's load_process / load_caps (serde_json: keys sorted)
      const wasm = readFileSync(WASM);
      for (const name of ['pass-case', 'fail-case']) {
        const w = await postRpc(node.port, rpcBody('vfs:distro:sys', `{"action":"Write","path":"/tester:sys/tests/${name}.wasm"}`, wasm));
        assert.equal(w.status, 200);
        assert.doesNotMatch(w.body!, /Err/, w.body);
      }
      const caps = `{"fail-case":{"grant_capabilities":[],"request_capabilities":[]},"pass-case":{"grant_capabilities":["${ECHO}"],"request_capabilities":["${ECHO}"]}}`;
      const c = await postRpc(node.port, rpcBody('vfs:distro:sys', '{"action":"Write","path":"/tester:sys/tests/capabilities.json"}', Buffer.from(caps)));
      assert.doesNotMatch(c.body!, /Err/, c.body);
      const run = (names: string[]) =>
        postRpc(node.port, rpcBody('tester:tester:sys', `{"Run":{"input_node_names":["first.dev"],"test_names":${JSON.stringify(names)},"test_timeout":20}}`, undefined, 60));
      assert.deepEqual(await run(['pass-case']), { status: 200, body: '{"Run":{"Ok":null}}' });
      const failed = await run(['pass-case', 'fail-case']);
      assert.match(failed.body!, /^\{"Run":\{"Err":\{"test":"tester-case","file":"[^"]*tester-case[^"]*","line":\d+,"column":\d+\}\}\}$/);
    } finally {
      await node.stop();
    }
  });
});
