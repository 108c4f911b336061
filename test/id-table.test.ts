// IdTable (host/kernel/id-table.ts), the kernel's table of expects-response timers by message
// id: after any sequence of sets, replaces and deletes it holds exactly what a Map would.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdTable } from '../host/kernel/id-table.js';

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

function check(t: IdTable<number>, model: Map<bigint, number>, probes: bigint[]): void {
  assert.equal(t.size, model.size);
  for (const id of probes) assert.equal(t.get(id), model.get(id), `get(${id})`);
  assert.deepEqual([...t.values()].sort((a, b) => a - b), [...model.values()].sort((a, b) => a - b));
}

describe('IdTable', () => {
  it('matches a Map over 20,000 random sets, replaces and deletes, with ids that share their hash', () => {
    const next = lcg(7);
    // ids that differ only above bit 32 hash alike (low and high words are folded: xor of equal
    // pairs collides too), so long probe runs and wrap-around deletes are exercised
    const pool: bigint[] = [];
    for (let i = 0; i < 300; i++) {
      const lo = BigInt(next());
      pool.push(lo | (BigInt(next()) << 32n));
      if (i % 3 === 0) pool.push(lo | (lo << 32n), (BigInt(i % 7) << 32n) | BigInt(i % 7), 2n ** 64n - 1n - BigInt(i));
    }
    pool.push(0n);
    const t = new IdTable<number>();
    const model = new Map<bigint, number>();
    for (let step = 0; step < 20_000; step++) {
      const id = pool[next() % pool.length]!;
      const op = next() % 10;
      if (op < 5) {
        t.set(id, step);
        model.set(id, step);
      } else {
        assert.equal(t.delete(id), model.get(id), `delete(${id}) at step ${step}`);
        model.delete(id);
      }
      if (step % 997 === 0) check(t, model, pool);
    }
    check(t, model, pool);
    for (const id of [...model.keys()]) {
      assert.equal(t.delete(id), model.get(id));
      model.delete(id);
    }
    check(t, model, pool);
    assert.equal(t.delete(pool[0]!), undefined);
  });

  it('keeps 64 in flight through 100,000 requests answered in batches (the Rust pair pattern)', () => {
    const next = lcg(11);
    const t = new IdTable<bigint>();
    const inFlight: bigint[] = [];
    for (let sent = 0; sent < 100_000; ) {
      while (inFlight.length < 64) {
        const id = (BigInt(next()) << 32n) | BigInt(next());
        t.set(id, id);
        inFlight.push(id);
        sent++;
      }
      for (const id of inFlight.splice(0, 1 + (next() % 40))) assert.equal(t.delete(id), id);
      assert.equal(t.size, inFlight.length);
    }
    for (const id of inFlight) assert.equal(t.get(id), id);
  });
});
