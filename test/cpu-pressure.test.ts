// The spare-core gate of serial awaits (host/kernel/cpu-pressure.ts, docs/performance.md §24):
// it reads Linux's /proc/pressure/cpu (here a text the test writes, and a clock the test moves)
// and tells the workers whether they may spin. What is observed: the verdict, and the shared
// cell the workers read before spinning.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuPressure } from '../host/kernel/cpu-pressure.js';

const text = (avg10: number, totalUs: number): string =>
  `some avg10=${avg10.toFixed(2)} avg60=50.00 avg300=50.00 total=${totalUs}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

function gate(): { p: CpuPressure; cell: Int32Array; set: (avg10: number, totalUs: number, atMs: number) => void } {
  let file = '';
  let now = 0;
  const cell = new Int32Array(2);
  const p = new CpuPressure(cell, 0, () => file, () => now);
  return {
    p,
    cell,
    set: (avg10, totalUs, atMs) => {
      file = text(avg10, totalUs);
      now = atMs;
    },
  };
}

describe('CPU pressure gate', () => {
  it('frees the spin after a second of quiet, though the 10 s average still shows the burst before', () => {
    const { p, cell, set } = gate();
    set(95, 1_000_000, 1000);
    assert.equal(p.hasSpareCore(), false, 'first read: only avg10 to go by');
    assert.equal(cell[0], 1);
    // 600 ms later: 30 ms of it stalled (5 %), while avg10 still reads 80: one quiet read is not enough
    set(80, 1_030_000, 1600);
    assert.equal(p.hasSpareCore(), false);
    // and 600 ms more of the same: two in a row
    set(70, 1_060_000, 2200);
    assert.equal(p.hasSpareCore(), true);
    assert.equal(cell[0], 0);
  });

  it('shuts it as soon as the last half second was contended, though the 10 s average is low', () => {
    const { p, cell, set } = gate();
    set(5, 1_000_000, 1000);
    assert.equal(p.hasSpareCore(), true);
    set(20, 1_450_000, 1600); // 450 of 600 ms stalled: 75 %: one contended read shuts it
    assert.equal(p.hasSpareCore(), false);
    assert.equal(cell[0], 1);
  });

  it('keeps its verdict between reads, and goes by avg10 after a long pause', () => {
    const { p, set } = gate();
    set(5, 1_000_000, 1000);
    assert.equal(p.hasSpareCore(), true);
    set(99, 9_000_000, 1200); // within 500 ms of the last read: not read again
    assert.equal(p.hasSpareCore(), true);
    // a minute later (no await in between): the share since the last read says little; avg10 decides
    set(90, 9_000_000, 61_200);
    assert.equal(p.hasSpareCore(), false);
  });

  it('says yes where there is no pressure file', () => {
    const cell = new Int32Array(2);
    const p = new CpuPressure(cell, 0, () => {
      throw new Error('ENOENT');
    });
    assert.equal(p.hasSpareCore(), true);
    assert.equal(cell[0], 0);
  });
});
