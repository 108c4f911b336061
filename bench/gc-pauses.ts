// The main thread's garbage-collection pauses in a bench child, as Node reports them
// (PerformanceObserver 'gc' entries: kind and duration). Section 1 reads them around its
// 50-connection runs to show the young-generation pauses beside the p99 they make (the host's
// requests in flight survive scavenges that raw Node's do not; docs/performance.md "HTTP p99").
// Every child observes the same way, so the overhead (one entry per collection) is equal.

import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

export interface GcPauses {
  /** young-generation collections (scavenges): pause ms each */
  minor: number[];
  /** every other kind (mark-compact, incremental marking steps, weak callbacks): pause ms each */
  major: number[];
}

let seen: GcPauses = { minor: [], major: [] };
let observer: PerformanceObserver | undefined;

/** Start recording (idempotent). */
export function observeGc(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      (kind === constants.NODE_PERFORMANCE_GC_MINOR ? seen.minor : seen.major).push(e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** The pauses recorded since the last call (entries arrive a turn late: wait one before reading). */
export async function takeGcPauses(): Promise<GcPauses> {
  await new Promise((r) => setImmediate(r));
  const out = seen;
  seen = { minor: [], major: [] };
  return out;
}
