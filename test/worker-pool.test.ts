// The worker pool's spare is replaced once the start that took it is over (kernel/worker-pool.ts):
// at the process's first print, end or park, and at the latest after a bound, so a process that
// computes forever never leaves the node without a booted spare.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

after(() => cleanupTempDirs());

/** Polls (bounded) until the node's pool has a booted spare; false if it never does. */
async function spareBooted(node: Awaited<ReturnType<typeof bootNode>>): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (node.kernel.spareReady()) return true;
    await sleep(50);
  }
  return false;
}

describe('worker pool refill', () => {
  it('a process that prints and then spins forever does not leave the pool without a spare', async () => {
    const node = await bootNode();
    try {
      assert.equal(await spareBooted(node), true, 'the node boots with a spare');
      const dir = await makePackage({ packageName: 'spinpool', publisher: 'test.os', witVersion: 1, processes: [{ name: 'spin-init', wasm: 'probe-v1' }] });
      const from = node.printCount;
      await node.install(dir);
      await node.waitForPrint(/spinning/, 60000, from);
      // the spare was taken for spin-init; its replacement boots although spin-init never parks
      assert.equal(await spareBooted(node), true, 'a new spare boots');
      // and a second process starts on it
      const dir2 = await makePackage({ packageName: 'afterspin', publisher: 'test.os', witVersion: 1, processes: [{ name: 'p', wasm: 'probe-v1' }] });
      await node.install(dir2);
      await node.waitForPrint(/probe ready fake\.dev@p:afterspin:test\.os/, 60000, from);
    } finally {
      await node.stop();
    }
  });
});
