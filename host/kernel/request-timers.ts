// The expects-response timers of requests in flight, per holder process and request id. A
// response that arrives takes its timer; a timer that fires hands the pending request back (its
// send-error keeps the target exactly as the process passed it, as in the runtime). Kept per
// process by request id: a string key per message was the main source of kernel garbage.

import type { Address, LazyLoadBlob, Request } from '../types.js';

/** setTimeout's limit; longer timeouts never fire in practice */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PendingTimer {
  handle: NodeJS.Timeout | undefined;
  originalTarget: Address;
  request: Request;
  blob: LazyLoadBlob | undefined;
}

export class RequestTimers {
  /** holder process key -> request id -> timer */
  private readonly byHolder = new Map<string, Map<bigint, PendingTimer>>();

  constructor(private readonly onFire: (holder: string, id: bigint, p: PendingTimer) => void) {}

  /** Stop and forget a request's timer (its response arrived, or the kernel dropped it). */
  take(holder: string, id: bigint): PendingTimer | undefined {
    const of = this.byHolder.get(holder);
    const t = of?.get(id);
    if (t) {
      clearTimeout(t.handle);
      of!.delete(id);
    }
    return t;
  }

  /** Time `request` (it has expects-response) sent by `holder` with `id`. */
  start(holder: string, id: bigint, request: Request, blob: LazyLoadBlob | undefined, originalTarget: Address): void {
    this.take(holder, id);
    const ms = Number(request.expectsResponse!) * 1000;
    if (ms > MAX_TIMER_MS) return; // effectively never times out
    const pending: PendingTimer = { handle: undefined, originalTarget, request, blob };
    pending.handle = setTimeout(() => {
      const of = this.byHolder.get(holder);
      if (of?.get(id) !== pending) return;
      of.delete(id);
      this.onFire(holder, id, pending);
    }, ms);
    let of = this.byHolder.get(holder);
    if (!of) this.byHolder.set(holder, (of = new Map()));
    of.set(id, pending);
  }

  /** Forget every timer of a holder (its instance ended). */
  clear(holder: string): void {
    const of = this.byHolder.get(holder);
    if (!of) return;
    for (const t of of.values()) clearTimeout(t.handle);
    this.byHolder.delete(holder);
  }

  clearAll(): void {
    for (const holder of [...this.byHolder.keys()]) this.clear(holder);
  }
}
