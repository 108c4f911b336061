// The expects-response timers of requests in flight, per holder process and request id. A
// response that arrives takes its timer; a timer that fires hands the pending request back (its
// send-error keeps the target exactly as the process passed it, as in the runtime). Kept per
// process by request id: a string key per message was the main source of kernel garbage.
//
// One Node timer per distinct timeout length (a "lane"), not one per request: requests with the
// same expects-response fall due in the order they were sent, so each lane is a list in due order
// whose timer is armed for its head. Starting and taking a timer is a list insert and unlink; a
// setTimeout + clearTimeout per request (a Timeout object, the timer list and a libuv clock read
// each) was a measured part of the kernel's per-message cost (docs/performance.md §13).
// Per holder the entries sit in an IdTable, not a Map: a Map that takes and drops an entry per
// message resizes with every batch, and its dropped tables would keep finished requests (and
// their blobs) alive (id-table.ts, pending-table.ts).

import type { Address, LazyLoadBlob, Request } from '../types.js';
import { IdTable } from './id-table.js';

/** setTimeout's limit; longer timeouts never fire in practice */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PendingTimer {
  originalTarget: Address;
  request: Request;
  blob: LazyLoadBlob | undefined;
}

interface Entry extends PendingTimer {
  holder: string;
  id: bigint;
  /** performance.now() when it falls due */
  due: number;
  lane: Lane;
  prev: Entry | undefined;
  next: Entry | undefined;
}

interface Lane {
  ms: number;
  head: Entry | undefined;
  tail: Entry | undefined;
  /** armed while the lane holds entries (unreferenced, or gone, while it is empty) */
  timer: NodeJS.Timeout | undefined;
}

export class RequestTimers {
  /** holder process key -> request id -> timer */
  private readonly byHolder = new Map<string, IdTable<Entry>>();
  /** timeout length (ms) -> its lane */
  private readonly lanes = new Map<number, Lane>();

  constructor(private readonly onFire: (holder: string, id: bigint, p: PendingTimer) => void) {}

  /** Stop and forget a request's timer (its response arrived, or the kernel dropped it). */
  take(holder: string, id: bigint): PendingTimer | undefined {
    const e = this.byHolder.get(holder)?.delete(id);
    if (e) this.unlink(e);
    return e;
  }

  /** Time `request` (it has expects-response) sent by `holder` with `id`. */
  start(holder: string, id: bigint, request: Request, blob: LazyLoadBlob | undefined, originalTarget: Address): void {
    const ms = Number(request.expectsResponse!) * 1000;
    if (ms > MAX_TIMER_MS) {
      this.take(holder, id); // effectively never times out: only an earlier timer of this id goes
      return;
    }
    let lane = this.lanes.get(ms);
    if (!lane) this.lanes.set(ms, (lane = { ms, head: undefined, tail: undefined, timer: undefined }));
    const e: Entry = { originalTarget, request, blob, holder, id, due: performance.now() + ms, lane, prev: lane.tail, next: undefined };
    if (lane.tail) lane.tail.next = e;
    else lane.head = e;
    lane.tail = e;
    if (lane.timer === undefined) lane.timer = setTimeout(() => this.fire(lane), ms);
    else if (lane.head === e) lane.timer.ref(); // the lane was empty: its timer keeps the node up again
    let of = this.byHolder.get(holder);
    if (!of) this.byHolder.set(holder, (of = new IdTable()));
    // a reused id replaces its earlier timer (one lookup of the holder and one probe, on every request)
    const replaced = of.set(id, e);
    if (replaced) this.unlink(replaced);
  }

  /** Forget every timer of a holder (its instance ended). */
  clear(holder: string): void {
    const of = this.byHolder.get(holder);
    if (!of) return;
    for (const e of of.values()) this.unlink(e);
    this.byHolder.delete(holder);
  }

  clearAll(): void {
    for (const holder of [...this.byHolder.keys()]) this.clear(holder);
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    this.lanes.clear();
  }

  private unlink(e: Entry): void {
    const lane = e.lane;
    if (e.prev) e.prev.next = e.next;
    else lane.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else lane.tail = e.prev;
    e.prev = e.next = undefined;
    // an empty lane's timer stays armed (the next request would arm one again) but no longer
    // keeps the node running, as no per-request timer would
    if (lane.head === undefined) lane.timer?.unref();
  }

  /** The lane's timer: everything due goes (a timer may run up to 1 ms before the clock says so). */
  private fire(lane: Lane): void {
    lane.timer = undefined;
    const now = performance.now();
    for (let e = lane.head; e !== undefined && e.due <= now + 1; e = lane.head) {
      this.unlink(e);
      const of = this.byHolder.get(e.holder);
      if (of?.get(e.id) !== e) continue;
      of.delete(e.id);
      this.onFire(e.holder, e.id, e);
    }
    // onFire may have started a request on this lane (arming a full-length timer): the head decides
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.head !== undefined) {
      lane.timer = setTimeout(() => this.fire(lane), Math.max(1, Math.ceil(lane.head.due - performance.now())));
    } else if (this.lanes.get(lane.ms) === lane) {
      this.lanes.delete(lane.ms); // made again by the next request of this length
    }
  }
}
