// The spin policy of serial awaits (host/process/await-spin.ts, docs/performance.md §24), driven
// by a simulated process: each await takes a known time; the worker's spin catches the reply when
// its budget covers that time (no wake-up paid), else it parks, and a parked await is measured
// with a wake-up on top. What a process observes is which of its awaits were answered without
// parking and how much CPU the spins that ran out burned.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwaitSpin } from '../host/process/await-spin.js';
import { SPIN_HIT, SPIN_NONE, SPIN_TIMEOUT } from '../host/process/park.js';

const WAKE_US = 50;

interface Run {
  /** awaits of each kind answered while spinning, after the warm-up */
  caught: number[];
  /** µs of spins that ran out */
  wasted: number;
}

/** `n` rounds of awaits taking `durations` in turn (e.g. a write then a read). */
function simulate(cap: number, durations: number[], n: number): Run {
  const spin = new AwaitSpin(cap);
  const caught = durations.map(() => 0);
  let wasted = 0;
  for (let i = 0; i < n; i++) {
    durations.forEach((us, k) => {
      const budget = spin.budget();
      if (budget >= us) {
        spin.record(us, SPIN_HIT);
        if (i >= 20) caught[k]!++;
      } else if (budget > 0) {
        spin.record(us + WAKE_US, SPIN_TIMEOUT);
        if (i >= 20) wasted += budget;
      } else spin.record(us + WAKE_US, SPIN_NONE);
    });
  }
  return { caught, wasted };
}

describe('await spin policy', () => {
  it('catches the fast await of a slow / fast pair every time, and stops spinning on the slow one', () => {
    // an ext4 vfs Write (its truncate waits for writeback) then a Read
    const r = simulate(200, [900, 60], 220);
    assert.equal(r.caught[1], 200, JSON.stringify(r));
    assert.equal(r.caught[0], 0);
    // the slow one is tried again only after a growing back-off: a handful of spins in 200 rounds
    assert.ok(r.wasted <= 8 * 400, JSON.stringify(r));
  });

  it('catches a slow but steady await up to twice the cap, and its fast partner', () => {
    const r = simulate(200, [300, 60], 220);
    assert.equal(r.caught[0], 200, JSON.stringify(r));
    assert.equal(r.caught[1], 200, JSON.stringify(r));
  });

  it('keeps an irregular await above the cap parked', () => {
    const spin = new AwaitSpin(200);
    // 100–500 µs in no order (a fixed pseudo-random sequence): whatever came before, the next is as irregular
    let x = 12345;
    const next = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return 100 + (x % 401);
    };
    for (let i = 0; i < 200; i++) spin.record(next(), SPIN_NONE);
    for (let i = 0; i < 50; i++) {
      const b = spin.budget();
      assert.ok(b <= 200, `budget ${b} µs above the cap`);
      spin.record(next(), SPIN_NONE);
    }
  });

  it('behaves as one average for a loop of one kind', () => {
    const r = simulate(200, [40], 220);
    assert.equal(r.caught[0], 200, JSON.stringify(r));
    assert.equal(r.wasted, 0);
  });

  it('never spins with the cap at 0', () => {
    const spin = new AwaitSpin(0);
    for (let i = 0; i < 10; i++) {
      assert.equal(spin.budget(), 0);
      spin.record(40, SPIN_NONE);
    }
  });
});
