// Serial awaits (docs/performance.md §17): every send-and-await of a process is counted as
// answered without parking (the worker spun) or parked, and the kernel's polls for an answered
// worker's next send as hits or misses; KINODE_AWAIT_SPIN_US=0 switches spinning and polling
// off, and a bad value is refused with a clear error. Both generations: the await paths are
// the same code, the imports that reach them differ.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KinodeNode } from '../host/node.js';
import { spinCapFromEnv } from '../host/process/await-spin.js';
import { bootNode, cleanupTempDirs, cmd, makePackage } from './helpers.js';

const AWAITS = 40;

type Stats = { spun: number; parked: number; pollHits: number; pollMisses: number; pollsDeclined: number };

for (const gen of [0, 1] as const) {
  for (const knob of [undefined, '0'] as const) {
    describe(`serial awaits, process-v${gen}, KINODE_AWAIT_SPIN_US=${knob ?? '(default)'}`, () => {
      let node: KinodeNode;
      const pkg = `aw${gen}${knob ?? 'd'}:test.os`;
      const A = `fake.dev@a:${pkg}`;
      const B = `fake.dev@b:${pkg}`;
      const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';
      const saved = process.env.KINODE_AWAIT_SPIN_US;

      before(async () => {
        if (knob === undefined) delete process.env.KINODE_AWAIT_SPIN_US;
        else process.env.KINODE_AWAIT_SPIN_US = knob;
        const dir = await makePackage({
          packageName: `aw${gen}${knob ?? 'd'}`,
          publisher: 'test.os',
          processes: [
            { name: 'a', wasm, requestCapabilities: [`b:${pkg}`] },
            { name: 'b', wasm, requestCapabilities: [`a:${pkg}`] },
          ],
        });
        // no lanes: these count the kernel's polls after each answer, and an answer over a lane
        // (after the pair's first LANE_AFTER messages) never passes the kernel
        node = await bootNode({ packages: [dir], lanes: false });
        await node.waitForPrint(new RegExp(`probe ready ${A}`));
        await node.waitForPrint(new RegExp(`probe ready ${B}`));
      });
      after(async () => {
        await node.stop();
        if (saved === undefined) delete process.env.KINODE_AWAIT_SPIN_US;
        else process.env.KINODE_AWAIT_SPIN_US = saved;
        cleanupTempDirs();
      });

      it('counts each send-and-await once, and every answer arrives', async () => {
        const stats = (): Stats => node.kernel.awaitStatsOf(`a:${pkg}`)!;
        const before = stats();
        for (let i = 0; i < AWAITS; i++) {
          const r = await cmd<{ ok: { source: string; body: string } }>(node, A, { op: 'await', target: B, body: { op: 'ping', n: i }, expects: 5 });
          assert.equal(r.ok.source, B);
        }
        const now = stats();
        assert.equal(now.spun - before.spun + (now.parked - before.parked), AWAITS, JSON.stringify({ before, now }));
        if (knob === '0') {
          // switched off: the kernel never even considered polling for a's doorbell
          assert.equal(now.pollHits + now.pollMisses + now.pollsDeclined, 0, JSON.stringify(now));
        } else {
          // on: each answer to a's await was followed by a poll, or by the reason for none (no spare
          // core, backing off: which one depends on the machine's load, so only the sum is certain;
          // a delivery made while a is still inside its await counts too)
          const considered = now.pollHits + now.pollMisses + now.pollsDeclined - (before.pollHits + before.pollMisses + before.pollsDeclined);
          assert.ok(considered >= AWAITS, JSON.stringify({ before, now }));
        }
        // b only answered: it never awaited anything
        const b = node.kernel.awaitStatsOf(`b:${pkg}`)!;
        assert.equal(b.spun + b.parked, 0, JSON.stringify(b));
      });
    });
  }
}

describe('KINODE_AWAIT_SPIN_US', () => {
  it('takes a number of µs ≥ 0 and refuses anything else by name', () => {
    assert.equal(spinCapFromEnv({}), 200);
    assert.equal(spinCapFromEnv({ KINODE_AWAIT_SPIN_US: '0' }), 0);
    assert.equal(spinCapFromEnv({ KINODE_AWAIT_SPIN_US: '75' }), 75);
    assert.throws(() => spinCapFromEnv({ KINODE_AWAIT_SPIN_US: 'fast' }), /KINODE_AWAIT_SPIN_US must be a number/);
    assert.throws(() => spinCapFromEnv({ KINODE_AWAIT_SPIN_US: '-1' }), /KINODE_AWAIT_SPIN_US must be a number/);
  });
});
