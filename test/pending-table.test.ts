// Unit: the table of things waiting on a message id (kernel/pending-table.ts; the http-server's
// requests waiting for an answer, the kernel's request timers) keeps insertion order (the 408
// timer answers the oldest first), moves a reused id to the back, and
// reuses freed slots without disturbing that order.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PendingTable } from '../host/kernel/pending-table.js';

describe('http-server pending table', () => {
  it('gets, deletes and reports its size', () => {
    const t = new PendingTable<string>();
    t.set(1n, 'a');
    t.set(2n, 'b');
    assert.equal(t.size, 2);
    assert.equal(t.get(1n), 'a');
    assert.equal(t.delete(1n), 'a');
    assert.equal(t.get(1n), undefined);
    assert.equal(t.delete(1n), undefined);
    assert.equal(t.size, 1);
  });

  it('keeps insertion order through deletes, slot reuse and a reused id', () => {
    const t = new PendingTable<string>();
    t.set(10n, 'a');
    t.set(20n, 'b');
    t.set(30n, 'c');
    t.delete(20n); // frees a slot in the middle
    t.set(40n, 'd'); // takes that slot, but goes to the back
    t.set(10n, 'a2'); // a reused id moves to the back
    assert.deepEqual(t.values(), ['c', 'd', 'a2']);
    assert.deepEqual(t.oldest(), [30n, 'c']);
    t.delete(30n);
    assert.deepEqual(t.oldest(), [40n, 'd']);
    t.clear();
    assert.equal(t.oldest(), undefined);
    assert.equal(t.size, 0);
  });

  it('handles many requests coming and going (bounded loop)', () => {
    const t = new PendingTable<number>();
    for (let i = 0; i < 10_000; i++) {
      t.set(BigInt(i), i);
      if (i >= 50) assert.equal(t.delete(BigInt(i - 50)), i - 50);
    }
    assert.equal(t.size, 50);
    assert.deepEqual(t.oldest(), [9950n, 9950]);
  });
});
