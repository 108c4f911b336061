// Expects-response timers of the requests a worker sent over its lanes (lanes.ts): the kernel
// never sees those requests, so the worker times them itself. A worker is parked in
// Atomics.wait, not in an event loop, so there is no setTimeout here: the worker looks at the
// earliest due time whenever it looks for a delivery, and parks no longer than until then.
// As in kernel/request-timers.ts, requests of one timeout length fall due in the order they were
// sent, so each length keeps a queue in due order and only its head is ever compared.

import type { Address, Delivery, LazyLoadBlob, Request } from '../types.js';
import { IdTable } from '../kernel/id-table.js';

interface Entry {
  id: bigint;
  due: number;
  target: Address;
  request: Request;
  blob: LazyLoadBlob | undefined;
  /** its response or error arrived, or a later request reused its id */
  done: boolean;
}

interface Queue {
  items: Entry[];
  head: number;
}

/** setTimeout's limit, as the kernel's: longer timeouts never fire in practice */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LaneTimers {
  private readonly byId = new IdTable<Entry>();
  private readonly queues = new Map<number, Queue>();

  get size(): number {
    return this.byId.size;
  }

  /** Time `request` (it has expects-response), sent to `target` as the process named it. */
  start(id: bigint, request: Request, blob: LazyLoadBlob | undefined, target: Address): void {
    const ms = Number(request.expectsResponse!) * 1000;
    if (ms > MAX_TIMER_MS) {
      this.take(id); // never due: only an earlier timer of this id goes
      return;
    }
    const e: Entry = { id, due: performance.now() + ms, target, request, blob, done: false };
    const replaced = this.byId.set(id, e);
    if (replaced) replaced.done = true;
    let q = this.queues.get(ms);
    if (!q) this.queues.set(ms, (q = { items: [], head: 0 }));
    q.items.push(e);
  }

  /** A response or error with `id` arrived: its timer is over. */
  take(id: bigint): void {
    const e = this.byId.delete(id);
    if (e) e.done = true;
  }

  /** The timeout error of the first request overdue at `now`, if any (its timer is then over). */
  due(now: number): Delivery | undefined {
    for (const [ms, q] of this.queues) {
      const e = this.headOf(ms, q);
      if (e === undefined || e.due > now) continue;
      q.head++;
      e.done = true;
      this.byId.delete(e.id);
      return { kind: 'error', id: e.id, error: { kind: 'timeout', target: e.target, message: { tag: 'request', val: e.request }, lazyLoadBlob: e.blob } };
    }
    return undefined;
  }

  /** Milliseconds until the earliest timer falls due (Infinity when none is running). */
  msUntilDue(now: number): number {
    let first = Infinity;
    for (const [ms, q] of this.queues) {
      const e = this.headOf(ms, q);
      if (e !== undefined && e.due < first) first = e.due;
    }
    return first === Infinity ? Infinity : Math.max(0, first - now);
  }

  /** The queue's first running timer; finished ones at the front are let go. */
  private headOf(ms: number, q: Queue): Entry | undefined {
    const items = q.items;
    while (q.head < items.length && items[q.head]!.done) q.head++;
    if (q.head === items.length) {
      if (items.length > 0) {
        items.length = 0;
        q.head = 0;
      }
      if (this.byId.size === 0) this.queues.delete(ms);
      return undefined;
    }
    if (q.head > 1024 && q.head * 2 > items.length) {
      items.splice(0, q.head);
      q.head = 0;
    }
    return items[q.head];
  }
}
