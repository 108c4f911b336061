// Live-process limits (issue 11.4): a spawn loop stops at --max-processes-per-package and at
// --max-processes with the `name-taken` spawn error and a printed reason; the node keeps running.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootNode, cleanupTempDirs, cmd, makePackage } from './helpers.js';

after(() => cleanupTempDirs());

/** Spawn unnamed children until the first error (bounded); returns the children and that error. */
async function spawnUntilRefused(node: Awaited<ReturnType<typeof bootNode>>, parent: string, wasmPath: string, bound: number) {
  const kids: string[] = [];
  for (let i = 0; i < bound; i++) {
    const r = await cmd<{ ok?: string; err?: string }>(node, parent, { op: 'spawn', wasmPath, onExit: 'None', requestCaps: [], grantCaps: [], public: false }, 60);
    if (r.err !== undefined) return { kids, err: r.err };
    kids.push(r.ok!);
  }
  return { kids, err: undefined };
}

describe('process limits', () => {
  for (const gen of [0, 1] as const) {
    it(`a spawn loop stops at --max-processes-per-package (process-v${gen}); the node keeps running`, async () => {
      const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';
      const dir = await makePackage({ packageName: `lim${gen}`, publisher: 'test.os', processes: [{ name: 'parent', wasm }, { name: 'sibling', wasm }], files: { 'child.wasm': wasm } });
      const node = await bootNode({ packages: [dir], maxProcessesPerPackage: 4 });
      try {
        const parent = `fake.dev@parent:lim${gen}:test.os`;
        await node.waitForPrint(new RegExp(`probe ready ${parent}`));
        const { kids, err } = await spawnUntilRefused(node, parent, `/lim${gen}:test.os/pkg/child.wasm`, 10);
        // parent and sibling count: two children fit
        assert.equal(kids.length, 2);
        assert.equal(err, 'name-taken');
        await node.waitForPrint(new RegExp(`kernel: process parent:lim${gen}:test.os cannot spawn \\d+:lim${gen}:test.os: package lim${gen}:test.os has 4 processes \\(--max-processes-per-package 4\\)`));
        for (const k of kids) await node.waitForPrint(new RegExp(`probe ready fake\\.dev@${k}`));
        // everyone still answers, and a child that exits frees its place
        assert.equal(await cmd(node, `fake.dev@${kids[0]}`, { op: 'print', text: 'child alive' }), null);
        await node.driver().request(`fake.dev@${kids[0]}`, { op: 'exit' });
        const again = await spawnUntilRefused(node, parent, `/lim${gen}:test.os/pkg/child.wasm`, 10);
        assert.deepEqual([again.kids.length, again.err], [1, 'name-taken']);
        assert.equal(await cmd(node, parent, { op: 'print', text: 'parent alive' }), null);
      } finally {
        await node.stop();
      }
    });
  }

  it('a spawn loop stops at --max-processes across packages', async () => {
    const one = await makePackage({ packageName: 'tot-a', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }], files: { 'child.wasm': 'probe-v1' } });
    const two = await makePackage({ packageName: 'tot-b', publisher: 'test.os', processes: [{ name: 'p', wasm: 'probe-v1' }] });
    const node = await bootNode({ packages: [one, two], maxProcesses: 3 });
    try {
      await node.waitForPrint(/probe ready fake\.dev@p:tot-a/);
      await node.waitForPrint(/probe ready fake\.dev@p:tot-b/);
      const { kids, err } = await spawnUntilRefused(node, 'fake.dev@p:tot-a:test.os', '/tot-a:test.os/pkg/child.wasm', 10);
      assert.deepEqual([kids.length, err], [1, 'name-taken']);
      await node.waitForPrint(/cannot spawn \d+:tot-a:test\.os: the node has 3 processes \(--max-processes 3\)/);
      assert.equal(await cmd(node, 'fake.dev@p:tot-b:test.os', { op: 'print', text: 'b alive' }), null);
    } finally {
      await node.stop();
    }
  });
});
