// The node keeps only its recent printed lines (issue 11.7): a bounded ring of 1000, which
// `prints` and `waitForPrint` read; line numbers (printCount) stay valid once old lines fall out.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

after(() => cleanupTempDirs());

describe('prints', () => {
  it('a node that printed 1500 lines holds the last 1000; waitForPrint still works from a line number', async () => {
    const dir = await makePackage({ packageName: 'chatty', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }] });
    const node = await bootNode({ packages: [dir] });
    try {
      const P = 'fake.dev@p:chatty:test.os';
      await node.waitForPrint(/probe ready fake\.dev@p:chatty/);
      const start = node.printCount;
      for (let i = 0; i < 1500; i++) await node.driver().request(P, { op: 'print', text: `line ${i}` });
      await node.waitForPrint(/chatty:test\.os: line 1499$/, 60000, start);
      assert.equal(node.printCount, start + 1500);
      const held = node.prints;
      assert.equal(held.length, 1000);
      assert.equal(held[999], 'chatty:test.os: line 1499');
      assert.equal(held[0], 'chatty:test.os: line 500');
      // lines that fell out are gone; a line number past them still finds the ones kept
      await assert.rejects(node.waitForPrint(/: line 499$/, 300, 0));
      assert.equal(await node.waitForPrint(/: line \d+$/, 1000, start + 1200), 'chatty:test.os: line 1200');
      const later = node.printCount;
      const next = node.waitForPrint(/: after the ring$/, 20000, later);
      await node.driver().request(P, { op: 'print', text: 'after the ring' });
      assert.equal(await next, 'chatty:test.os: after the ring');
    } finally {
      await node.stop();
    }
  });
});
