// Whatever the host batches between a worker and the kernel, what a process sees must not
// change: every send arrives, in order, and one made just before a long computation arrives
// while the computation runs, not when the process next calls the host. (Holding a worker's
// doorbell back while it has a batch in hand was tried and needs the kernel to drain held sends
// itself for the second case: docs/performance.md §33.)

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';
import type { KinodeNode } from '../host/node.js';

const DRIVER = 'fake.dev@driver:kinode-host:sys';

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  describe(`held sends, process-v${gen}`, () => {
    async function boot(name: string): Promise<{ node: KinodeNode; p: string }> {
      const pkg = `held${gen}${name}`;
      const dir = await makePackage({ packageName: pkg, publisher: 'test.os', processes: [{ name: 'p', wasm: gen === 0 ? 'probe-v0' : 'probe-v1' }] });
      const node = await bootNode({ packages: [dir] });
      const p = `fake.dev@p:${pkg}:test.os`;
      await node.waitForPrint(new RegExp(`probe ready ${p.replace(/\./g, '\\.')}`));
      return { node, p };
    }

    it('a send made just before a loop that never calls the host again arrives while the loop runs', async () => {
      const { node, p } = await boot('loop');
      try {
        const d = node.driver();
        // one batch of two: the send, then a loop that never calls the host again
        void d.request(p, { op: 'send', target: DRIVER, body: 'sent before the loop' });
        void d.request(p, { op: 'spin' });
        const got = await d.waitFor((r) => r.text === 'sent before the loop', 30000);
        assert.equal(got.source, p);
      } finally {
        await node.stop();
      }
    });

    it('a batch of sends arrives whole and in order', async () => {
      const { node, p } = await boot('order');
      try {
        const d = node.driver();
        const n = 100; // more than one delivery batch's worth, as any batching must keep in order
        for (let i = 0; i < n; i++) void d.request(p, { op: 'send', target: DRIVER, body: `n${i}` });
        await d.waitFor((r) => r.text === `n${n - 1}`, 30000);
        const got = d.received.filter((r) => r.source === p).map((r) => r.text);
        assert.deepEqual(got, Array.from({ length: n }, (_, i) => `n${i}`));
      } finally {
        await node.stop();
      }
    });
  });
}
