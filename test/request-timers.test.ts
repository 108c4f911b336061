// The kernel's expects-response timers (host/kernel/request-timers.ts): one Node timer per timeout
// length, requests of a length kept in due order. Each request's timeout fires once, never before
// its time, in due order across lengths; a taken (answered) one never fires.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTimers } from '../host/kernel/request-timers.js';
import type { Address, Request } from '../host/types.js';

const target: Address = { node: 'fake.dev', process: { processName: 't', packageName: 'pkg', publisherNode: 'pub.os' } };
const req = (seconds: number): Request => ({ inherit: false, expectsResponse: BigInt(seconds), body: new Uint8Array(), metadata: undefined, capabilities: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('expects-response timers', () => {
  it('fire in due order across timeout lengths, never early, and not after being taken', async () => {
    const fired: Array<{ id: bigint; after: number }> = [];
    const started = new Map<bigint, number>();
    const timers = new RequestTimers((_holder, id) => fired.push({ id, after: performance.now() - started.get(id)! }));
    const start = (holder: string, id: bigint, s: number) => {
      started.set(id, performance.now());
      timers.start(holder, id, req(s), undefined, target);
    };
    start('a', 1n, 1);
    start('a', 2n, 1);
    start('b', 3n, 1);
    start('a', 4n, 2);
    assert.ok(timers.take('a', 2n), 'a pending timer is taken once');
    assert.equal(timers.take('a', 2n), undefined);
    await sleep(300);
    start('b', 5n, 1); // the same lane, later
    start('a', 6n, 1);
    timers.clear('a'); // a's instance ended: 1, 4 and 6 go with it
    start('a', 7n, 1);
    await sleep(2300);
    assert.deepEqual(fired.map((f) => f.id), [3n, 5n, 7n]);
    for (const f of fired) assert.ok(f.after >= 999, `timer ${f.id} fired after ${f.after} ms`);
    timers.clearAll();
  });

  it('a lane emptied and used again keeps firing; a restarted id fires once', async () => {
    const fired: bigint[] = [];
    const timers = new RequestTimers((_h, id) => fired.push(id));
    timers.start('a', 1n, req(1), undefined, target);
    timers.take('a', 1n);
    timers.start('a', 2n, req(1), undefined, target);
    timers.start('a', 2n, req(1), undefined, target); // the same id again: one timer
    await sleep(1200);
    timers.start('a', 3n, req(1), undefined, target);
    await sleep(1200);
    assert.deepEqual(fired, [2n, 3n]);
    timers.clearAll();
  });
});
